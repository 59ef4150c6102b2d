/**
 * Security-relevant events of the token lifecycle, handed to whoever wires the core (the server
 * logs them). They carry ids and instants only, never a token, hash or key.
 */
export type TokenEvent =
  | { type: 'refresh_token_reused'; at: Date; userId: string; sessionId: string }
  | {
      type: 'token_revoked'
      at: Date
      userId: string
      sessionId: string
      tokenType: 'access_token' | 'refresh_token'
      clientId: string | null
    }
  | { type: 'signing_key_rotated'; at: Date; kid: string; algorithm: string; activatesAt: Date; emergency: boolean }
  | { type: 'service_client_created'; at: Date; clientId: string; name: string }
  | { type: 'service_client_deleted'; at: Date; clientId: string; name: string }

export type RecordTokenEvent = (event: TokenEvent) => void

export const ignoreTokenEvent: RecordTokenEvent = () => {}
