// Plain JavaScript in an outside project: the installed tessera-client signs in against a real
// Tessera, calls /v1/me, refreshes and signs out. Prints what it saw as JSON.
import { createTesseraClient, TesseraError } from 'tessera-client'

const [baseUrl, username, password] = process.argv.slice(2)
const client = createTesseraClient({ baseUrl })
const report = { resolved: import.meta.resolve('tessera-client') }
try {
  await client.signIn({ username, password: `${password}!` })
} catch (error) {
  report.wrongPassword = error instanceof TesseraError ? error.code : String(error)
}
const signedIn = await client.signIn({ username, password })
report.signedInAs = signedIn.user.username
report.me = (await client.me()).user.username
report.sessions = (await client.sessions.list()).length
await client.signOut()
try {
  await client.me()
} catch (error) {
  report.afterSignOut = error instanceof TesseraError ? error.code : String(error)
}
process.stdout.write(JSON.stringify(report))
