// A strict TypeScript project using the installed tessera-client: it must type-check against the
// package's declarations alone, in a browser setting (no Node types).
import {
  createTesseraClient,
  memoryTokenStorage,
  TesseraError,
  type SignedIn,
  type TesseraClient,
} from 'tessera-client'

const client: TesseraClient = createTesseraClient({
  baseUrl: 'https://auth.example.com',
  storage: memoryTokenStorage(),
})

export async function signInOrExplain(username: string, password: string): Promise<SignedIn | string> {
  try {
    return await client.signIn({ username, password })
  } catch (error) {
    if (error instanceof TesseraError) return `${error.code} (${error.status})`
    throw error
  }
}
