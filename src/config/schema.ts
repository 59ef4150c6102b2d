/**
 * Every setting Tessera reads, with its environment name, type, default and bounds. Names in a
 * config file are the same as in the environment (for example `{"TESSERA_PORT": 9000}`).
 */
export type SettingType = 'string' | 'integer' | 'duration' | 'boolean' | 'url' | 'list' | 'cron'

export interface SettingDefinition {
  type: SettingType
  description: string
  default?: string
  min?: number
  max?: number
  oneOf?: readonly string[]
  /** Never shown in clear by `tessera config`. */
  isSecret?: boolean
}

export const settings = {
  TESSERA_HOST: { type: 'string', default: '127.0.0.1', description: 'Address to listen on.' },
  TESSERA_PORT: {
    type: 'integer',
    default: '8080',
    min: 0,
    max: 65535,
    description: 'Port to listen on (0 picks a free one).',
  },
  TESSERA_DATA_DIR: {
    type: 'string',
    default: './data',
    description: 'Directory of the embedded database and the master key.',
  },
  TESSERA_PUBLIC_URL: {
    type: 'url',
    description:
      'External URL of this server; the `iss` of every token. Default http://HOST:PORT (https://HOST:PORT when TESSERA_TLS_CERT is set).',
  },
  TESSERA_AUDIENCE: {
    type: 'string',
    description: 'The `aud` of access tokens. Default: the public URL.',
  },
  TESSERA_CLIENT_ID: {
    type: 'string',
    default: 'tessera',
    description:
      'The `client_id` (RFC 9068) of access tokens issued by sign-ins, and of their sessions in introspection answers: the application users sign in to. 1 to 128 visible ASCII characters.',
  },
  TESSERA_ALLOWED_ORIGINS: {
    type: 'list',
    default: '',
    description:
      'Comma-separated origins (scheme://host[:port]) of browser apps trusted to act for a signed-in user: their cookie-authenticated unsafe requests are accepted and they get CORS answers with credentials. The public URL origin is always allowed. See docs/browser-clients.md.',
  },
  TESSERA_LOG_LEVEL: {
    type: 'string',
    default: 'info',
    oneOf: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    description: 'Log level of the JSON log on stdout.',
  },
  TESSERA_SESSION_IDLE_TIMEOUT: {
    type: 'duration',
    default: '1h',
    min: 1,
    description: 'A session unused this long ends (sliding).',
  },
  TESSERA_SESSION_ABSOLUTE_TIMEOUT: {
    type: 'duration',
    default: '24h',
    min: 1,
    description: 'A session ends this long after login, whatever its activity.',
  },
  TESSERA_SESSION_CACHE_TTL: {
    type: 'duration',
    default: '1s',
    min: 0,
    max: 60,
    description:
      'How long a node trusts its in-process copy of a session before re-reading the store (changes made on this node apply at once).',
  },
  TESSERA_SESSION_LIMITS: {
    type: 'list',
    default: '',
    description:
      'Comma-separated `role:N` or `role:N:policy` entries (for example `player:1,user:10:refuse`): a user holds at most N live sessions, the strictest limit among their roles applying. When a sign-in finds the limit reached, the policy `end_oldest` (the default) ends the oldest session, whose holder then gets `reason: "signed_in_elsewhere"`, and `refuse` refuses the sign-in with `session_limit_reached`. Decided atomically in the session store. See docs/real-time.md.',
  },
  TESSERA_EVENT_STREAM_HEARTBEAT: {
    type: 'duration',
    default: '15s',
    min: 1,
    max: 300,
    description:
      'How often GET /v1/events/stream sends a comment line on a quiet stream, so proxies keep it open and clients notice a dead one.',
  },
  TESSERA_EVENT_STREAM_REPLAY_WINDOW: {
    type: 'duration',
    default: '5m',
    min: 10,
    max: 86400,
    description:
      'How long each node keeps stream events for clients resuming with Last-Event-ID; a client that comes back later (or to a node started since) is told to resync.',
  },
  TESSERA_EVENT_STREAM_REPLAY_EVENTS: {
    type: 'integer',
    default: '10000',
    min: 100,
    max: 1000000,
    description:
      'At most this many stream events are kept for resumption (the oldest go first, and a client needing them is told to resync).',
  },
  TESSERA_EVENT_STREAM_MAX_BUFFER: {
    type: 'integer',
    default: '1048576',
    min: 1024,
    max: 67108864,
    description:
      'Bytes of stream events that may wait for one slow client (unread in the connection); past it, the stream is cut and the client must reconnect with Last-Event-ID.',
  },
  TESSERA_SESSION_DATA_MAX_SIZE: {
    type: 'integer',
    default: '16384',
    min: 2,
    max: 262144,
    description:
      'Largest session data document (`/v1/sessions/current/data`), in bytes of JSON; a larger write answers 413 `data_too_large`.',
  },
  TESSERA_PLAYER_DATA_MAX_SIZE: {
    type: 'integer',
    default: '16384',
    min: 2,
    max: 262144,
    description:
      'Largest player data document (`/v1/me/data`), in bytes of JSON; a larger write answers 413 `data_too_large`.',
  },
  TESSERA_GUEST_RETENTION: {
    type: 'duration',
    default: '30d',
    min: 86400,
    description:
      'A guest account (made by a device sign-in, without username or password) whose devices have not signed in for this long is deleted by the housekeeping, with its data and devices.',
  },
  TESSERA_ACCESS_TOKEN_TTL: {
    type: 'duration',
    default: '10m',
    min: 1,
    max: 900,
    description: 'Lifetime of access tokens.',
  },
  TESSERA_CLOCK_LEEWAY: {
    type: 'duration',
    default: '5s',
    min: 0,
    max: 30,
    description: 'Clock skew tolerated when checking exp/nbf/iat of tokens.',
  },
  TESSERA_SIGNING_ALGORITHM: {
    type: 'string',
    default: 'EdDSA',
    oneOf: ['EdDSA', 'ES256', 'RS256'],
    description:
      'Algorithm of new signing keys. RS256 (RSA 2048) is for gateways that verify RSA signatures only, such as AWS API Gateway HTTP API JWT authorizers; verifiers must list it in their allowed algorithms.',
  },
  TESSERA_ARGON2_MEMORY_KIB: {
    type: 'integer',
    default: '19456',
    min: 12288,
    max: 4194304,
    description: 'argon2id memory cost in KiB.',
  },
  TESSERA_ARGON2_PASSES: {
    type: 'integer',
    default: '2',
    min: 1,
    max: 64,
    description: 'argon2id passes (time cost).',
  },
  TESSERA_ARGON2_PARALLELISM: {
    type: 'integer',
    default: '1',
    min: 1,
    max: 16,
    description: 'argon2id lanes.',
  },
  TESSERA_HASH_CONCURRENCY: {
    type: 'integer',
    min: 1,
    max: 64,
    description: 'Password hashes run at once. Default: CPU cores + 1. The thread pool is sized to this + 2.',
  },
  TESSERA_HASH_QUEUE: {
    type: 'integer',
    default: '256',
    min: 0,
    max: 100000,
    description: 'Password hashes that may wait; past it, sign-ins get 503 with Retry-After.',
  },
  TESSERA_PASSWORD_MIN_LENGTH: {
    type: 'integer',
    default: '15',
    min: 8,
    max: 64,
    description: 'Minimum password length in code points after NFKC.',
  },
  TESSERA_PASSWORD_MAX_LENGTH: {
    type: 'integer',
    default: '1024',
    min: 64,
    max: 1024,
    description: 'Maximum password length in code points (and never more than 1024 UTF-8 bytes as sent).',
  },
  TESSERA_BOOTSTRAP_ADMIN_USERNAME: {
    type: 'string',
    description: 'With the next setting: creates this admin at start when no admin exists.',
  },
  TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: {
    type: 'string',
    description: 'File holding the bootstrap admin password (read once; delete it afterwards).',
  },
  TESSERA_REQUEST_TIMEOUT: {
    type: 'duration',
    default: '3s',
    min: 1,
    max: 300,
    description: 'Longest time to receive a whole request.',
  },
  TESSERA_HEADERS_TIMEOUT: {
    type: 'duration',
    default: '3s',
    min: 1,
    max: 60,
    description: 'Longest time to receive request headers.',
  },
  TESSERA_SHUTDOWN_TIMEOUT: {
    type: 'duration',
    default: '8s',
    min: 1,
    max: 300,
    description:
      'Longest time a stop (SIGTERM or SIGINT) waits for requests in progress and the stores to close before the process exits anyway (with status 1). Keep it below the grace time of the process manager (Docker: 10 s).',
  },
  TESSERA_NODE_ID: {
    type: 'string',
    description: 'Names this node in audit events and scheduler leases. Default: host name and process id.',
  },
  TESSERA_AUDIT_RETENTION: {
    type: 'duration',
    default: '90d',
    min: 3600,
    description: 'Audit events and alerts older than this are pruned, in bounded batches.',
  },
  TESSERA_REVIEW_SCHEDULE: {
    type: 'cron',
    default: '*/5 * * * *',
    description: 'Cron expression of the security review (the detection rules).',
  },
  TESSERA_REPORT_SCHEDULE: {
    type: 'cron',
    default: '0 23 * * *',
    description: 'Cron expression of the daily report (summary of the 24 hours before it).',
  },
  TESSERA_RETENTION_SCHEDULE: {
    type: 'cron',
    default: '15 * * * *',
    description: 'Cron expression of retention pruning.',
  },
  TESSERA_SCHEDULE_TIMEZONE: {
    type: 'string',
    description: 'IANA time zone of the cron expressions (for example Europe/Paris). Default: the host time zone.',
  },
  TESSERA_SCHEDULER_ENABLED: {
    type: 'boolean',
    default: 'true',
    description: 'Run the scheduled jobs on this node (leases keep each run on one node anyway).',
  },
  TESSERA_REVIEW_WINDOW: {
    type: 'duration',
    default: '15m',
    min: 60,
    max: 86400,
    description: 'How far back each security review looks.',
  },
  TESSERA_REVIEW_ACCOUNT_FAILURES: {
    type: 'integer',
    default: '10',
    min: 2,
    max: 100000,
    description:
      'Failed sign-ins on one account within the window that raise a brute-force (or, from many addresses, stuffing) alert.',
  },
  TESSERA_REVIEW_SPRAY_ACCOUNTS: {
    type: 'integer',
    default: '10',
    min: 2,
    max: 100000,
    description: 'Accounts failed from one address within the window that raise a password-spraying alert.',
  },
  TESSERA_REVIEW_STUFFING_ADDRESSES: {
    type: 'integer',
    default: '10',
    min: 2,
    max: 100000,
    description:
      'Distinct addresses (and distinct accounts) of failed sign-ins, at 80% failures or more, that raise a credential-stuffing alert; from 5 addresses, failures on one account count as stuffing.',
  },
  TESSERA_REVIEW_SUCCESS_AFTER_FAILURES: {
    type: 'integer',
    default: '5',
    min: 1,
    max: 100000,
    description: 'Failed attempts right before a successful sign-in that make it suspicious.',
  },
  TESSERA_ALERT_DEDUPE_WINDOW: {
    type: 'duration',
    default: '1h',
    min: 0,
    max: 604800,
    description: 'A finding with the same rule and subject as an alert raised this recently raises no new alert.',
  },
  TESSERA_ALERT_WEBHOOK_URL: {
    type: 'url',
    description:
      'Alerts are POSTed here as JSON, signed with HMAC-SHA256 over the signing time and the body (X-Tessera-Signature: t=…,v1=…).',
  },
  TESSERA_ALERT_WEBHOOK_SECRET: {
    type: 'string',
    isSecret: true,
    description: 'Shared secret of the webhook signature (at least 16 characters); required with the URL.',
  },
  TESSERA_ALERT_WEBHOOK_TIMEOUT: {
    type: 'duration',
    default: '5s',
    min: 0.1,
    max: 60,
    description: 'Longest wait for the webhook receiver to answer one delivery.',
  },
  TESSERA_ALERT_WEBHOOK_MAX_ATTEMPTS: {
    type: 'integer',
    default: '8',
    min: 1,
    max: 50,
    description: 'Deliveries tried per alert (back-off 15 s, 30 s, 60 s … capped at 1 h) before it is abandoned.',
  },
  TESSERA_METRICS_TOKEN: {
    type: 'string',
    isSecret: true,
    description:
      'When set, GET /metrics needs `Authorization: Bearer <token>`. Required when TESSERA_HOST is not a loopback address (Tessera refuses to start otherwise); without it /metrics is open to this machine only.',
  },
  TESSERA_TRUST_PROXY: {
    type: 'integer',
    default: '0',
    min: 0,
    max: 10,
    description:
      'Reverse proxies in front of Tessera whose X-Forwarded-For entries are believed (0: none; the peer address is the client).',
  },
  TESSERA_TLS_CERT: {
    type: 'string',
    description: 'PEM certificate chain file; with TESSERA_TLS_KEY, Tessera serves HTTPS itself.',
  },
  TESSERA_TLS_KEY: { type: 'string', description: 'PEM private key file of TESSERA_TLS_CERT.' },
  TESSERA_ALLOW_INSECURE_COOKIES: {
    type: 'boolean',
    default: 'false',
    description:
      'Start on plain HTTP on a non-loopback address with an http public URL, where session cookies would travel unencrypted.',
  },
  TESSERA_PASSWORD_CONTEXT_WORDS: {
    type: 'list',
    default: '',
    description:
      'Comma-separated words (for example the product or company name) that new passwords may not be built on.',
  },
  TESSERA_THROTTLE_ACCOUNT_THRESHOLD: {
    type: 'integer',
    default: '10',
    min: 1,
    max: 90,
    description: 'Failed sign-ins for one username, from anywhere, before its back-off starts.',
  },
  TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: {
    type: 'integer',
    default: '5',
    min: 1,
    max: 90,
    description: 'Failed sign-ins for one username from one IP (IPv6: one /64) before their back-off starts.',
  },
  TESSERA_THROTTLE_IP_THRESHOLD: {
    type: 'integer',
    default: '20',
    min: 1,
    max: 100000,
    description: 'Failed sign-ins from one IP for usernames not known there, before the IP is slowed down.',
  },
  TESSERA_THROTTLE_BASE_DELAY: {
    type: 'duration',
    default: '1s',
    min: 1,
    max: 3600,
    description: 'First back-off wait; each further failure doubles it.',
  },
  TESSERA_THROTTLE_MAX_DELAY: {
    type: 'duration',
    default: '1h',
    min: 1,
    max: 86400,
    description: 'Longest single back-off wait (the lock time).',
  },
  TESSERA_THROTTLE_FORGET_AFTER: {
    type: 'duration',
    default: '24h',
    min: 60,
    max: 2592000,
    description:
      'Failure counters of a username are forgotten this long after their last failure (below the hard cap).',
  },
  TESSERA_THROTTLE_MAX_FAILURES: {
    type: 'integer',
    default: '100',
    min: 20,
    max: 100,
    description:
      'Consecutive failures a username may accrue (NIST SP 800-63B: at most 100); IPs it never signed in from stop 10 short.',
  },
  TESSERA_THROTTLE_KNOWN_IP_TTL: {
    type: 'duration',
    default: '90d',
    min: 0,
    max: 31536000,
    description: 'How long an IP stays known to a user after a successful sign-in from it (0: never known).',
  },
  TESSERA_THROTTLE_REGISTER_THRESHOLD: {
    type: 'integer',
    default: '10',
    min: 1,
    max: 100000,
    description: 'Registrations from one IP before it is slowed down.',
  },
  TESSERA_THROTTLE_PASSWORD_RESET_THRESHOLD: {
    type: 'integer',
    default: '10',
    min: 1,
    max: 100000,
    description:
      'Password-reset requests from one IP before it is slowed down; the same number of failed reset confirmations and address verifications (unknown or used tokens) from one IP.',
  },
  TESSERA_THROTTLE_DEVICE_THRESHOLD: {
    type: 'integer',
    default: '30',
    min: 1,
    max: 100000,
    description:
      'Failed device sign-ins (a wrong or missing device secret) from one IP before it is slowed down. A device sign-in that creates a guest also counts as a registration (TESSERA_THROTTLE_REGISTER_THRESHOLD).',
  },
  TESSERA_THROTTLE_REFRESH_THRESHOLD: {
    type: 'integer',
    default: '30',
    min: 1,
    max: 100000,
    description: 'Failed refresh-token redemptions from one IP before it is slowed down.',
  },
  TESSERA_THROTTLE_INTROSPECT_THRESHOLD: {
    type: 'integer',
    default: '100',
    min: 1,
    max: 100000,
    description: 'Introspections answering inactive (or refusing the client) from one IP before it is slowed down.',
  },
  TESSERA_THROTTLE_REVOKE_THRESHOLD: {
    type: 'integer',
    default: '60',
    min: 1,
    max: 100000,
    description: 'Revocation requests from one IP (every one counts: they always answer 200) before it is slowed down.',
  },
  TESSERA_REFRESH_GRACE: {
    type: 'duration',
    default: '5s',
    min: 0,
    max: 30,
    description:
      'After a refresh, a repeat of the replaced refresh token within this window (a retry) gets the same new token; later it is reuse and ends the session.',
  },
  TESSERA_KEY_ACTIVATION_DELAY: {
    type: 'duration',
    default: '10m',
    min: 0,
    max: 604800,
    description:
      'A rotated-in signing key is published at once and signs only after this delay; keep it above the JWKS max-age (300 s) plus TESSERA_KEY_RELOAD_INTERVAL.',
  },
  TESSERA_KEY_RELOAD_INTERVAL: {
    type: 'duration',
    default: '10s',
    min: 1,
    max: 60,
    description:
      'How often a running server re-reads the signing keys (to see a rotation made by the CLI or another node).',
  },
  TESSERA_DATABASE_URL: {
    type: 'string',
    isSecret: true,
    description:
      'PostgreSQL URL (postgres://user:password@host:5432/db). When set, users, signing keys, service clients, the audit trail and alerts (and, unless Redis is set, sessions with their refresh tokens, throttles and scheduler leases) live there instead of SQLite.',
  },
  TESSERA_DATABASE_SCHEMA: {
    type: 'string',
    default: 'public',
    description: "PostgreSQL schema of Tessera's tables (created by the migrations when missing).",
  },
  TESSERA_DATABASE_POOL_SIZE: {
    type: 'integer',
    default: '10',
    min: 1,
    max: 200,
    description: 'PostgreSQL connections each node keeps at most.',
  },
  TESSERA_DATABASE_MIGRATE_ON_START: {
    type: 'boolean',
    default: 'false',
    description:
      'Apply pending PostgreSQL migrations at start. Otherwise run `tessera migrate`; a node refuses to start on an older schema.',
  },
  TESSERA_REDIS_URL: {
    type: 'string',
    isSecret: true,
    description:
      'Redis URL (redis:// or rediss:// for TLS). When set, sessions with their refresh tokens, throttle counters (both expired by TTL) and scheduler leases live in Redis, and nodes tell each other of revocations over it.',
  },
  TESSERA_REDIS_CLUSTER: {
    type: 'list',
    default: '',
    isSecret: true,
    description:
      "Redis Cluster instead of one Redis: comma-separated seed nodes, host:port or redis(s):// URLs (the first URL's credentials and TLS apply to every node).",
  },
  TESSERA_REDIS_KEY_PREFIX: {
    type: 'string',
    default: 'tessera',
    description: 'Prefix of every Redis key and channel, so several deployments can share one Redis.',
  },
  TESSERA_BACKEND_TIMEOUT: {
    type: 'duration',
    default: '2s',
    min: 0.1,
    max: 30,
    description:
      'Longest wait for one call to PostgreSQL or Redis, end to end: connecting, waiting for a pooled connection, every statement of a transaction, and the reply of a command already sent (a server that is connected but silent). Past it the request answers 503 with Retry-After, and so does `/readyz`.',
  },
  TESSERA_PAGES_ENABLED: {
    type: 'boolean',
    default: 'true',
    description:
      'Serve the hosted pages (sign-in, registration, account) and the admin console at /, /login, /register, /account and /admin. Off: those paths answer 404, as for an API-only server.',
  },
  TESSERA_PAGES_PRODUCT_NAME: {
    type: 'string',
    default: 'Tessera',
    description: 'The name the pages show in titles and headings (1 to 64 characters).',
  },
  TESSERA_PAGES_LOGO_URL: {
    type: 'url',
    description:
      "Logo image shown on the pages, from this URL (its origin is added to the pages' img-src). Not with TESSERA_PAGES_LOGO_FILE.",
  },
  TESSERA_PAGES_LOGO_FILE: {
    type: 'string',
    description:
      'Logo image file (PNG, JPEG, WebP or SVG, at most 256 KiB), read at start and served by Tessera. Not with TESSERA_PAGES_LOGO_URL.',
  },
  TESSERA_PAGES_ACCENT_COLOR: {
    type: 'string',
    default: '#2b4acb',
    description:
      'Colour of buttons, links and focus rings, as #rgb or #rrggbb. It must contrast 4.5:1 with the background colour (WCAG AA), or Tessera refuses to start.',
  },
  TESSERA_PAGES_ACCENT_TEXT_COLOR: {
    type: 'string',
    default: '#ffffff',
    description:
      'Colour of text on accent-coloured buttons, as #rgb or #rrggbb; it must contrast 4.5:1 with the accent colour.',
  },
  TESSERA_PAGES_BACKGROUND_COLOR: {
    type: 'string',
    default: '#ffffff',
    description: "Background colour of the pages' panels, as #rgb or #rrggbb.",
  },
  TESSERA_PAGES_TEXT_COLOR: {
    type: 'string',
    default: '#1d2330',
    description: 'Colour of text, as #rgb or #rrggbb; it must contrast 4.5:1 with the background colour.',
  },
  TESSERA_REAUTHENTICATION_MAX_AGE: {
    type: 'duration',
    default: '10m',
    min: 10,
    max: 86400,
    description:
      'Sensitive operations (second-factor and passkey changes, a password change on an account with a second factor, admin changes by an admin with one) need a session authenticated this recently; otherwise they answer `reauthentication_required` and the client calls POST /v1/auth/reauthenticate.',
  },
  TESSERA_MFA_REQUIRED_ROLES: {
    type: 'list',
    default: '',
    description:
      'Comma-separated roles (for example admin) whose holders must use a second factor: until they enrol, every request but enrolment, re-authentication and sign-out answers `mfa_enrolment_required`, and a session of theirs without a second factor answers `reauthentication_required`.',
  },
  TESSERA_TOTP_ISSUER: {
    type: 'string',
    default: 'Tessera',
    description:
      'The issuer an authenticator app shows beside the account name of a TOTP secret (the otpauth URI label).',
  },
  TESSERA_WEBAUTHN_RP_ID: {
    type: 'string',
    description:
      'The WebAuthn relying-party id passkeys are bound to: the public URL host or a registrable domain above it. Default: the public URL host. Changing it makes every registered passkey unusable.',
  },
  TESSERA_WEBAUTHN_RP_NAME: {
    type: 'string',
    default: 'Tessera',
    description: 'The name browsers show when they create a passkey.',
  },
  TESSERA_WEBAUTHN_ORIGINS: {
    type: 'list',
    default: '',
    description:
      "Comma-separated origins, besides the public URL origin, whose pages may run passkey ceremonies (browser apps on the RP id's domain).",
  },
  TESSERA_SMTP_URL: {
    type: 'string',
    isSecret: true,
    description:
      'The SMTP relay mail goes through: smtp://user:password@host:587 (STARTTLS when the server offers it) or smtps://user:password@host:465 (TLS from the start); user and password percent-encoded. Unset: Tessera sends no mail, and password reset by email and address verification answer `mail_disabled`. See docs/email.md.',
  },
  TESSERA_MAIL_FROM: {
    type: 'string',
    description:
      'The From address of the mail Tessera sends, for example `Tessera <no-reply@example.com>`; required with TESSERA_SMTP_URL.',
  },
  TESSERA_MAIL_LINK_URL: {
    type: 'url',
    description:
      'Where links in mail point: {this}/password-reset#token=… and {this}/verify-email#token=…, pages that read the token from the fragment and post it to Tessera. Default: TESSERA_PUBLIC_URL, whose hosted pages serve both paths; required with TESSERA_SMTP_URL when TESSERA_PAGES_ENABLED is false (then they are pages of your app).',
  },
  TESSERA_SMTP_TIMEOUT: {
    type: 'duration',
    default: '10s',
    min: 1,
    max: 120,
    description:
      "Longest time one mail may take, from the look-ups to the relay's last answer; a mail not sent by then is given up.",
  },
  TESSERA_PASSWORD_RESET_TTL: {
    type: 'duration',
    default: '15m',
    min: 60,
    max: 86400,
    description: 'How long a password-reset link works (once).',
  },
  TESSERA_EMAIL_VERIFICATION_TTL: {
    type: 'duration',
    default: '24h',
    min: 60,
    max: 604800,
    description: 'How long an address-verification link works (once).',
  },
  TESSERA_PASSWORD_RESET_MAILS_PER_HOUR: {
    type: 'integer',
    default: '3',
    min: 1,
    max: 100,
    description:
      'Reset mails per named address or username, and per account, in an hour; further requests send nothing (their answer is the same).',
  },
} as const satisfies Record<string, SettingDefinition>

export type SettingName = keyof typeof settings

type ValueOfType<T extends SettingType> = T extends 'integer' | 'duration'
  ? number
  : T extends 'boolean'
    ? boolean
    : T extends 'list'
      ? string[]
      : string

type ParsedValue<D> = D extends { oneOf: ReadonlyArray<infer Choice> }
  ? Choice
  : D extends { type: infer T extends SettingType }
    ? ValueOfType<T>
    : never

/**
 * The parsed value of every setting, derived from the table above: its type from `type` (or the
 * `oneOf` choices), and `undefined` only for a setting without a default.
 */
export type SettingValues = {
  [Name in SettingName]: (typeof settings)[Name] extends { default: string }
    ? ParsedValue<(typeof settings)[Name]>
    : ParsedValue<(typeof settings)[Name]> | undefined
}

/** Reads one parsed setting, typed by the table. */
export type ReadSetting = <Name extends SettingName>(name: Name) => SettingValues[Name]
