/**
 * While the server stops: requests already in progress finish, and their answers close the
 * connection (`Connection: close`), so keep-alive clients do not hold the stop up until their
 * idle timeout; a request arriving on a kept-alive connection meanwhile gets a 503 problem
 * (with the usual headers, and `Retry-After`) for the load balancer to send elsewhere.
 */
import type { FastifyInstance } from 'fastify'
import { sendProblem } from '../problem.ts'

export function registerStoppingAnswers(app: FastifyInstance): void {
  let isStopping = false
  app.addHook('preClose', async () => {
    isStopping = true
  })
  // Callback hooks: every request passes here, and the common case has nothing to wait for.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!isStopping) {
      done()
      return
    }
    reply.header('retry-after', '1')
    sendProblem(reply, 'service_unavailable', 'This server is stopping; send the request again.')
  })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (isStopping) reply.header('connection', 'close')
    done(null, payload)
  })
}
