/**
 * A static page server for browser tests of `tessera/client`: it serves a blank page that loads
 * the SDK as an ES module, and the SDK's own sources as JavaScript, types stripped by Node
 * (`module.stripTypeScriptTypes`), with no bundler and no build step. The `.ts` import
 * specifiers stay as they are: a browser goes by the Content-Type, not the file name.
 */
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { stripTypeScriptTypes } from 'node:module'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'

const clientDir = new URL('../../src/client/', import.meta.url)

const sdkPage = `<!doctype html>
<meta charset="utf-8">
<title>tessera/client</title>
<script type="module">
  import * as tessera from '/client/index.ts'
  globalThis.tessera = tessera
  document.title = 'ready'
</script>
`

export interface PageServer {
  port: number
  /** The page's URL on a given host name of this machine, for example `localhost` or `127.0.0.1`. */
  pageUrl(host: string): string
}

/** Serves on 127.0.0.1; reach it as `127.0.0.1` or `localhost`, two origins of different sites. */
export async function startSdkPageServer(t: TestContext): Promise<PageServer> {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://page.invalid').pathname
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(sdkPage)
      return
    }
    const file = /^\/client\/([a-z-]+\.ts)$/.exec(path)?.[1]
    if (file === undefined) {
      response.writeHead(404).end()
      return
    }
    try {
      const source = await readFile(new URL(file, clientDir), 'utf8')
      response
        .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
        .end(stripTypeScriptTypes(source))
    } catch {
      response.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  return { port, pageUrl: (host) => `http://${host}:${port}/` }
}
