/**
 * Every setting Tessera reads, with its environment name, type, default and bounds. Names in a
 * config file are the same as in the environment (for example `{"TESSERA_PORT": 9000}`).
 */
export type SettingType = 'string' | 'integer' | 'duration' | 'boolean' | 'url' | 'list'

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
    description: 'External URL of this server; the `iss` of every token. Default http://HOST:PORT.',
  },
  TESSERA_AUDIENCE: {
    type: 'string',
    description: 'The `aud` of access tokens. Default: the public URL.',
  },
  TESSERA_ALLOWED_ORIGINS: {
    type: 'list',
    default: '',
    description:
      'Comma-separated origins allowed to send cookie-authenticated requests (the public URL origin is always allowed).',
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
    oneOf: ['EdDSA', 'ES256'],
    description: 'Algorithm of new signing keys.',
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
    description: 'Password hashes run at once. Default: CPU cores.',
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
    default: '256',
    min: 64,
    max: 1024,
    description: 'Maximum password length in code points.',
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
    default: '10s',
    min: 1,
    max: 300,
    description: 'Longest time to receive a whole request.',
  },
  TESSERA_HEADERS_TIMEOUT: {
    type: 'duration',
    default: '4s',
    min: 1,
    max: 60,
    description: 'Longest time to receive request headers.',
  },
  TESSERA_DATABASE_URL: {
    type: 'string',
    isSecret: true,
    description:
      'PostgreSQL URL (postgres://user:password@host:5432/db). When set, users, roles and signing keys (and sessions, unless Redis is set) live there instead of SQLite.',
  },
  TESSERA_DATABASE_SCHEMA: {
    type: 'string',
    default: 'public',
    description: 'PostgreSQL schema of Tessera\'s tables (created by the migrations when missing).',
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
      'Redis URL (redis:// or rediss:// for TLS). When set, sessions live in Redis (expired by TTL) and nodes tell each other of revocations over it.',
  },
  TESSERA_REDIS_CLUSTER: {
    type: 'list',
    default: '',
    isSecret: true,
    description:
      'Redis Cluster instead of one Redis: comma-separated seed nodes, host:port or redis(s):// URLs (the first URL\'s credentials and TLS apply to every node).',
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
      'Longest wait for PostgreSQL or Redis (to connect, and for each command); past it the request answers 503 with Retry-After.',
  },
} as const satisfies Record<string, SettingDefinition>

export type SettingName = keyof typeof settings
