/**
 * An account's email address, its verification, and self-service password reset by email.
 *
 * A reset request answers at once, the same way for every input: whether an account matches is
 * decided later, in the mail outbox (email/mailer.ts), so neither the answer nor its time tells
 * anything. There a request is counted per named address and per account in one atomic step of
 * the throttle store; one past the limit sends nothing. A mail goes only to a verified address
 * (an address nobody proved could be a typo, and its owner someone else).
 *
 * A reset token is 256 random bits, kept as a SHA-256 digest, at most one per account (a newer
 * one replaces it), and bound to the password hash it was issued under: any password change
 * voids it. Confirming consumes it in the same transaction that replaces the password (only if
 * the hash is still the one it was bound to) and ends every session of the account, so of many
 * simultaneous confirmations with one token exactly one succeeds.
 */
import type { Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Audit, AuditEventInput } from '../audit/audit.ts'
import type { StepUp } from '../auth/step-up.ts'
import type { Clock } from '../clock.ts'
import { normalizeEmailAddress, normalizeEmailPrefix, type EmailAddress } from '../email/address.ts'
import type { MailOutbox, Mailer } from '../email/mailer.ts'
import type { EmailRecord, EmailStore, EmailTokenPurpose, MailLanguage } from '../email/store.ts'
import { renderMail, type MailContent } from '../email/templates.ts'
import { TesseraError } from '../errors.ts'
import type { RequestContext } from '../request-context.ts'
import { createRandomToken, hashToken } from '../secrets.ts'
import type { Sessions } from '../sessions/sessions.ts'
import { addSeconds } from '../throttle/backoff.ts'
import type { SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { ThrottleStore } from '../throttle/store.ts'
import type { UnitOfWork } from '../unit-of-work.ts'
import type { Principal } from './sign-in.ts'

export interface EmailSettings {
  passwordResetTtlSeconds: number
  verificationTtlSeconds: number
  /** Reset mails per named address, and per account, within `mailWindowSeconds`. */
  mailsPerWindow: number
  mailWindowSeconds: number
  /** Where links in mail point: `{base}/password-reset#token=…`, `{base}/verify-email#token=…`. */
  linkBaseUrl: string
}

export interface EmailView {
  address: string
  verifiedAt: Date | null
}

export interface EmailOperations {
  /** False without SMTP: reset and verification answer `mail_disabled`. */
  readonly isMailEnabled: boolean
  getMyEmail(principal: Principal): Promise<EmailView | null>
  /**
   * Sets the caller's address after a recent authentication and the password; the new address
   * is unverified and a verification mail goes to it. Throws `invalid_email`, `email_taken`,
   * `invalid_credentials`, `reauthentication_required`, `rate_limited`.
   */
  changeMyEmail(
    principal: Principal,
    input: { email: string; password: string; language: MailLanguage; ip: string } & RequestContext,
  ): Promise<EmailView>
  /** Mails a new verification link; throws `mail_disabled`, `email_not_set`. */
  sendVerificationMail(principal: Principal): Promise<void>
  /** Marks the address the token was sent to verified; throws `invalid_email_token`. */
  verifyEmail(token: string, context: RequestContext): Promise<EmailView>
  /**
   * Accepts a reset request for an account named by username or email; answers the same way for
   * every input (the work happens in the outbox). Throws `mail_disabled` only.
   */
  requestPasswordReset(
    input: { username?: string; email?: string; language: MailLanguage },
    context: RequestContext,
  ): void
  /**
   * Sets a new password with a reset token and ends every session of the account. Throws
   * `invalid_email_token`, `password_*`, `mail_disabled`.
   */
  confirmPasswordReset(input: { token: string; newPassword: string }, context: RequestContext): Promise<void>
  /** An account's address for an operator; throws `not_found` for no such user. */
  findUserEmail(userId: string): Promise<EmailView | null>
  /** Sets an account's address as an operator (`verified` when the operator vouches for it). */
  setUserEmail(
    userId: string,
    input: { email: string; verified: boolean },
    actor: { actorUserId: string | null; context: RequestContext },
  ): Promise<EmailView>
  /** Accounts whose address key starts with `prefix` (normalised here), by address, at most `limit`. */
  findUsersByEmailPrefix(prefix: string, limit: number): Promise<Array<{ user: UserRecord; email: EmailView }>>
  /** Queues the verification mail of an address just given at registration. */
  queueVerificationMail(user: UserRecord, address: EmailAddress, language: MailLanguage): void
  /** Queues a notice to the account's verified address, if it has one (a recovery code used, a new password). */
  queueNotice(user: UserRecord, content: (username: string) => MailContent): void
  /** Resolves once the outbox is empty (tests, and a stopping server). */
  whenMailSent(): Promise<void>
}

function view(record: EmailRecord): EmailView {
  return { address: record.address, verifiedAt: record.verifiedAt }
}

/** What a reset token is bound to: the password hash it was issued under, digested. */
function describePasswordState(user: UserRecord): string {
  return hashToken(`tessera password state\u0000${user.passwordHash}`)
}

function mailDisabled(): TesseraError {
  return new TesseraError('mail_disabled', 'This server sends no mail, so this is not available: ask an administrator.')
}

function invalidToken(): TesseraError {
  return new TesseraError('invalid_email_token', 'This link is not valid any more: ask for a new one.')
}

export function createEmailOperations(deps: {
  accounts: Accounts
  emails: EmailStore
  throttles: ThrottleStore
  signInThrottle: SignInThrottle
  sessions: Sessions
  stepUp: StepUp
  audit: Audit
  unitOfWork: UnitOfWork
  clock: Clock
  /** Null when no SMTP relay is configured. */
  mailer: Mailer | null
  outbox: MailOutbox
  settings: EmailSettings
}): EmailOperations {
  const {
    accounts,
    emails,
    throttles,
    signInThrottle,
    sessions,
    stepUp,
    audit,
    unitOfWork,
    clock,
    mailer,
    outbox,
    settings,
  } = deps
  const linkBase = settings.linkBaseUrl.replace(/\/+$/, '')

  async function send(address: string, language: MailLanguage, content: MailContent): Promise<void> {
    if (!mailer) return
    const rendered = renderMail(content, language)
    await mailer.send({ to: address, ...rendered })
  }

  async function issueToken(
    user: UserRecord,
    purpose: EmailTokenPurpose,
    binding: string,
    ttlSeconds: number,
    event: AuditEventInput | null,
  ) {
    const token = createRandomToken(32)
    const now = clock.now()
    await unitOfWork.run(async (change) => {
      await change.stores.emails.saveEmailToken({
        tokenHash: hashToken(token),
        userId: user.id,
        purpose,
        binding,
        createdAt: now,
        expiresAt: addSeconds(now, ttlSeconds),
      })
      if (event) change.record(event)
    })
    return token
  }

  async function mailVerification(user: UserRecord, address: EmailAddress, language: MailLanguage) {
    // The address change that leads here is the audited event; the token itself changes nothing a user holds.
    const token = await issueToken(user, 'email_verification', address.key, settings.verificationTtlSeconds, null)
    await send(address.address, language, {
      kind: 'email_verification',
      username: user.username,
      link: `${linkBase}/verify-email#token=${token}`,
      validHours: Math.max(1, Math.round(settings.verificationTtlSeconds / 3600)),
    })
  }

  function queueVerification(user: UserRecord, address: EmailAddress, language: MailLanguage): void {
    if (!mailer) return
    outbox.enqueue('email_verification', () => mailVerification(user, address, language))
  }

  /** Counts one reset mail for the named address and the account at once; false past the limit. */
  async function admitResetMail(subject: string, userId: string | null): Promise<boolean> {
    const now = clock.now()
    const keys = [`reset:subject:${hashToken(subject)}`, ...(userId ? [`reset:account:${userId}`] : [])]
    const admission = await throttles.chargeThrottles(
      keys.map((key) => ({
        key,
        // Never blocks by back-off: the cap alone refuses, until the window forgets the count.
        rule: { threshold: settings.mailsPerWindow + 1, baseDelaySeconds: 1, maxDelaySeconds: 1 },
        expiresAt: addSeconds(now, settings.mailWindowSeconds),
        isEnforced: true,
        cap: settings.mailsPerWindow,
        settlesBy: null,
      })),
      now,
    )
    return admission.outcome === 'admitted'
  }

  async function processResetRequest(
    input: { username?: string; email?: string; language: MailLanguage },
    context: RequestContext,
  ) {
    let user: UserRecord | null = null
    let email: EmailRecord | null = null
    let subject: string
    if (input.email !== undefined) {
      let key: string
      try {
        key = normalizeEmailAddress(input.email).key
      } catch {
        key = `~${input.email}`
      }
      subject = `email:${key}`
      email = await emails.findEmailByKey(key)
      user = email ? await accounts.findUser(email.userId) : null
    } else {
      subject = `username:${input.username ?? ''}`
      user = await accounts.findUserByUsername(input.username ?? '')
      if (user) subject = `username:${user.usernameKey}`
      email = user ? await emails.findEmail(user.id) : null
    }
    const about = {
      type: 'password_reset_requested' as const,
      subjectUserId: user?.id ?? null,
      actorUserId: null,
      username: user ? user.usernameKey : (input.username ?? null),
      context,
    }
    if (!(await admitResetMail(subject, user?.id ?? null))) {
      await audit.record({ ...about, outcome: 'failure', reason: 'mail_throttled' })
      return
    }
    if (!user || user.disabledAt !== null) {
      await audit.record({ ...about, outcome: 'failure', reason: user ? 'account_disabled' : 'unknown_user' })
      return
    }
    if (!email || email.verifiedAt === null) {
      await audit.record({ ...about, outcome: 'failure', reason: 'no_verified_email' })
      return
    }
    const language = input.language
    const token = await issueToken(
      user,
      'password_reset',
      describePasswordState(user),
      settings.passwordResetTtlSeconds,
      {
        ...about,
        outcome: 'success',
      },
    )
    await send(email.address, language, {
      kind: 'password_reset',
      username: user.username,
      link: `${linkBase}/password-reset#token=${token}`,
      validMinutes: Math.max(1, Math.round(settings.passwordResetTtlSeconds / 60)),
    })
  }

  function queueNotice(user: UserRecord, content: (username: string) => MailContent): void {
    if (!mailer) return
    outbox.enqueue(content(user.username).kind, async () => {
      const email = await emails.findEmail(user.id)
      if (!email || email.verifiedAt === null) return
      await send(email.address, email.language, content(user.username))
    })
  }

  async function requireUser(userId: string): Promise<UserRecord> {
    const user = await accounts.findUser(userId)
    if (!user) throw new TesseraError('not_found', 'No such user.')
    return user
  }

  /** Stores an address for a user in one change with its event; returns the stored record. */
  async function storeAddress(
    user: UserRecord,
    address: EmailAddress,
    options: { language: MailLanguage; verified: boolean; actorUserId: string | null; context: RequestContext },
  ): Promise<{ record: EmailRecord; isNew: boolean }> {
    const now = clock.now()
    const record: EmailRecord = {
      userId: user.id,
      address: address.address,
      addressKey: address.key,
      verifiedAt: options.verified ? now : null,
      language: options.language,
      updatedAt: now,
    }
    const outcome = await unitOfWork.run(async (change) => {
      const result = await change.stores.emails.setEmail(record)
      if (result === 'email_taken')
        throw new TesseraError('email_taken', 'This email address belongs to another account.')
      if (result === 'no_user') throw new TesseraError('not_found', 'No such user.')
      if (result === 'unchanged' && options.verified)
        await change.stores.emails.markEmailVerified(user.id, address.key, now)
      change.record({
        type: 'email_changed',
        outcome: 'success',
        reason: options.actorUserId === user.id ? null : 'admin_action',
        actorUserId: options.actorUserId,
        subjectUserId: user.id,
        details: { verified: options.verified, same_address: result === 'unchanged' },
        context: options.context,
      })
      return result
    })
    const stored = await emails.findEmail(user.id)
    return { record: stored ?? record, isNew: outcome === 'set' }
  }

  return {
    isMailEnabled: mailer !== null,

    async getMyEmail(principal) {
      const record = await emails.findEmail(principal.user.id)
      return record ? view(record) : null
    },

    async changeMyEmail(principal, input) {
      await stepUp.requireRecentAuthentication(principal)
      const address = normalizeEmailAddress(input.email)
      const context = { ip: input.ip, userAgent: input.userAgent, requestId: input.requestId }
      // The password proves the person at the keyboard is the owner, not whoever found a session open.
      const attempt = await signInThrottle.admitSignIn({ username: principal.user.username, ip: input.ip })
      let user: UserRecord | null
      try {
        user = await accounts.authenticateUser({ username: principal.user.username, password: input.password })
      } catch (error) {
        await attempt.cancel()
        throw error
      }
      if (!user || user.id !== principal.user.id) {
        await attempt.recordFailure()
        await audit.record({
          type: 'password_change_failed',
          outcome: 'failure',
          reason: 'bad_password',
          actorUserId: principal.user.id,
          subjectUserId: principal.user.id,
          sessionId: principal.session.id,
          details: { operation: 'email_change' },
          context,
        })
        throw new TesseraError('invalid_credentials', 'The password is not correct.')
      }
      await attempt.recordSuccess()
      const { record, isNew } = await storeAddress(user, address, {
        language: input.language,
        verified: false,
        actorUserId: user.id,
        context,
      })
      if (isNew) queueVerification(user, address, input.language)
      return view(record)
    },

    async sendVerificationMail(principal) {
      if (!mailer) throw mailDisabled()
      const record = await emails.findEmail(principal.user.id)
      if (!record) throw new TesseraError('email_not_set', 'Set an email address first (PUT /v1/me/email).')
      if (record.verifiedAt !== null) return
      queueVerification(principal.user, { address: record.address, key: record.addressKey }, record.language)
    },

    async verifyEmail(token, context) {
      if (!mailer) throw mailDisabled()
      const tokenHash = hashToken(token)
      const verified = await unitOfWork.run(async (change) => {
        const now = clock.now()
        const consumed = await change.stores.emails.consumeEmailToken(tokenHash, 'email_verification', now)
        if (!consumed) return null
        if (!(await change.stores.emails.markEmailVerified(consumed.userId, consumed.binding, now))) return null
        change.record({
          type: 'email_verified',
          outcome: 'success',
          actorUserId: consumed.userId,
          subjectUserId: consumed.userId,
          context,
        })
        return consumed.userId
      })
      const record = verified ? await emails.findEmail(verified) : null
      if (!record) throw invalidToken()
      return view(record)
    },

    requestPasswordReset(input, context) {
      if (!mailer) throw mailDisabled()
      outbox.enqueue('password_reset', () => processResetRequest(input, context))
    },

    async confirmPasswordReset({ token, newPassword }, context) {
      if (!mailer) throw mailDisabled()
      const tokenHash = hashToken(token)
      const refuse = async (
        reason: 'unknown_token' | 'password_changed' | 'account_disabled',
        userId: string | null,
      ) => {
        await audit.record({
          type: 'password_reset_failed',
          outcome: 'failure',
          reason,
          subjectUserId: userId,
          context,
        })
        return invalidToken()
      }
      const found = await emails.findEmailToken(tokenHash, 'password_reset', clock.now())
      if (!found) throw await refuse('unknown_token', null)
      const user = await accounts.findUser(found.userId)
      if (!user || user.disabledAt !== null) throw await refuse('account_disabled', found.userId)
      if (describePasswordState(user) !== found.binding) throw await refuse('password_changed', user.id)
      // Checked and hashed before the transaction: it holds no hashing.
      const prepared = await accounts.prepareReplacementPassword(user, newPassword)
      const ended = await sessions.listLiveSessions(user.id)
      const outcome = await unitOfWork.run(async (change) => {
        // Only one caller gets the token; and only while the password it was bound to stands.
        const consumed = await change.stores.emails.consumeEmailToken(tokenHash, 'password_reset', clock.now())
        if (!consumed || consumed.userId !== user.id) return 'used' as const
        if (!(await change.stores.accounts.updatePasswordHash(user.id, prepared.change, clock.now())))
          return 'used' as const
        const updated = await sessions.endAllSessionsIn(change, user.id, 'password_reset')
        if (!updated) return 'used' as const
        const about = { actorUserId: user.id, subjectUserId: user.id, context }
        change.record({
          type: 'password_reset',
          outcome: 'success',
          details: { sessions_ended: ended.length },
          ...about,
        })
        for (const session of ended) {
          change.record({
            type: 'session_revoked',
            outcome: 'success',
            reason: 'password_changed',
            sessionId: session.id,
            ...about,
          })
        }
        return updated
      })
      if (outcome === 'used') throw await refuse('unknown_token', user.id)
      // The owner proved they read the account's mail: failures an attacker piled up no longer hold them back.
      await signInThrottle.unlockAccount(user.username).catch(() => 0)
      queueNotice(outcome, (username) => ({ kind: 'password_changed', username, at: clock.now(), how: 'reset' }))
    },

    async findUserEmail(userId) {
      await requireUser(userId)
      const record = await emails.findEmail(userId)
      return record ? view(record) : null
    },

    async setUserEmail(userId, input, actor) {
      const user = await requireUser(userId)
      const address = normalizeEmailAddress(input.email)
      const current = await emails.findEmail(userId)
      const language = current?.language ?? 'en'
      const { record, isNew } = await storeAddress(user, address, { language, verified: input.verified, ...actor })
      if (isNew && !input.verified) queueVerification(user, address, language)
      return view(record)
    },

    async findUsersByEmailPrefix(prefix, limit) {
      const found = await emails.findEmailsByKeyPrefix(normalizeEmailPrefix(prefix), limit)
      const results: Array<{ user: UserRecord; email: EmailView }> = []
      for (const record of found) {
        const user = await accounts.findUser(record.userId)
        if (user) results.push({ user, email: view(record) })
      }
      return results
    },

    queueVerificationMail: queueVerification,

    queueNotice,

    whenMailSent: () => outbox.whenIdle(),
  }
}
