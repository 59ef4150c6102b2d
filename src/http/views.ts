/** Turns domain records into the public JSON shapes of the API. */
import type { SignIn } from '../core/application/sign-in.ts'
import type { SessionRecord, UserRecord } from '../core/application/types.ts'
import { computeSessionEndsAt } from '../core/application/types.ts'

export interface UserView {
  id: string
  username: string
  roles: string[]
  created_at: string
  disabled_at: string | null
  password_change_required: boolean
}

// Records are immutable once loaded and the session cache hands out the same object on every
// request, so its view is built once rather than per request.
const userViews = new WeakMap<UserRecord, UserView>()

export function viewUser(user: UserRecord): UserView {
  let view = userViews.get(user)
  if (!view) {
    view = {
      id: user.id,
      username: user.username,
      roles: user.roles,
      created_at: user.createdAt.toISOString(),
      disabled_at: user.disabledAt?.toISOString() ?? null,
      password_change_required: user.isPasswordChangeRequired,
    }
    userViews.set(user, view)
  }
  return view
}

export function viewSession(session: SessionRecord, idleTimeoutSeconds: number, currentId: string | null) {
  return {
    id: session.id,
    transport: session.transport,
    created_at: session.createdAt.toISOString(),
    last_seen_at: session.lastSeenAt.toISOString(),
    expires_at: computeSessionEndsAt(session, idleTimeoutSeconds).toISOString(),
    ip: session.ip,
    user_agent: session.userAgent,
    current: session.id === currentId,
    authenticated_at: session.authenticatedAt.toISOString(),
    amr: session.amr,
  }
}

export function viewTokenSignIn(signIn: Pick<SignIn, 'user' | 'session' | 'tokens'>) {
  if (!signIn.tokens) throw new TypeError('token sign-in without tokens')
  return {
    access_token: signIn.tokens.accessToken,
    token_type: 'Bearer' as const,
    expires_in: signIn.tokens.expiresInSeconds,
    refresh_token: signIn.tokens.refreshToken,
    session_id: signIn.session.id,
    user: viewUser(signIn.user),
  }
}
