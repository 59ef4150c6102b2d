/**
 * Runs in a worker thread: verifies one bcrypt hash per message with bcryptjs's synchronous API.
 * bcryptjs's own async API only yields every 100 ms, which would still stall the event loop.
 */
import bcrypt from 'bcryptjs'
import { parentPort } from 'node:worker_threads'

interface VerifyRequest {
  password: string
  hash: string
}

parentPort?.on('message', (request: VerifyRequest) => {
  let matches = false
  try {
    matches = bcrypt.compareSync(request.password, request.hash)
  } catch {
    // A hash bcryptjs cannot read matches no password.
    matches = false
  }
  parentPort?.postMessage(matches)
})
