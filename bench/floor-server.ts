/**
 * The floor of every ratio `npm run bench` reports: a bare Fastify server with one route,
 * `GET /hello`, on the same Fastify and the same Node as Tessera. Whatever Tessera answers
 * slower than this is Tessera's own cost, not the loopback's or the framework's.
 *
 * Usage: node bench/floor-server.ts <port>  (listens on 127.0.0.1 only; prints "listening").
 */
import Fastify from 'fastify'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: node bench/floor-server.ts <port>\n')
  process.exit(2)
}
const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port })
process.stdout.write('listening\n')
process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
