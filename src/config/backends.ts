/**
 * The scale-out backends: which PostgreSQL and Redis (if any) hold Tessera's data. Neither set
 * means the embedded SQLite store alone; either may be set without the other.
 */
import type { ReadSetting } from './schema.ts'

export interface PostgresSettings {
  url: string
  schema: string
  poolSize: number
  migrateOnStart: boolean
}

export interface RedisSettings {
  /** One server's URL, or the seed nodes of a cluster (always URLs). */
  urls: string[]
  isCluster: boolean
  keyPrefix: string
}

export interface BackendSettings {
  postgres: PostgresSettings | null
  redis: RedisSettings | null
  /** Bound on connecting to, and on each command of, PostgreSQL and Redis. */
  backendTimeoutSeconds: number
}

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/
// No braces: they would change the Redis Cluster hash slot of every key (hash tags).
const keyPrefixPattern = /^[A-Za-z0-9_.:-]{1,64}$/

function readUrl(text: string, protocols: readonly string[]): URL | null {
  if (!URL.canParse(text)) return null
  const url = new URL(text)
  return protocols.includes(url.protocol) && url.hostname !== '' ? url : null
}

/** `host:port` becomes `redis://host:port`; URLs stay as they are. */
function toRedisUrl(entry: string): string {
  return /^[a-z]+:\/\//i.test(entry) ? entry : `redis://${entry}`
}

export function readBackendSettings(value: ReadSetting, problems: string[]): BackendSettings {
  const databaseUrl = value('TESSERA_DATABASE_URL')
  const schema = value('TESSERA_DATABASE_SCHEMA')
  const redisUrl = value('TESSERA_REDIS_URL')
  const clusterNodes = value('TESSERA_REDIS_CLUSTER') ?? []
  const keyPrefix = value('TESSERA_REDIS_KEY_PREFIX')

  if (databaseUrl !== undefined && !readUrl(databaseUrl, ['postgres:', 'postgresql:'])) {
    problems.push('TESSERA_DATABASE_URL: expected a URL such as postgres://user:password@host:5432/tessera')
  }
  if (schema !== undefined && !schemaPattern.test(schema)) {
    problems.push('TESSERA_DATABASE_SCHEMA: expected lower-case letters, digits and "_", starting with a letter or "_"')
  }
  if (redisUrl !== undefined && !readUrl(redisUrl, ['redis:', 'rediss:'])) {
    problems.push('TESSERA_REDIS_URL: expected a URL such as redis://host:6379 or rediss://host:6380')
  }
  if (redisUrl !== undefined && clusterNodes.length > 0) {
    problems.push('TESSERA_REDIS_CLUSTER: set either TESSERA_REDIS_URL or TESSERA_REDIS_CLUSTER, not both')
  }
  const seedUrls = clusterNodes.map(toRedisUrl)
  for (const [index, url] of seedUrls.entries()) {
    if (!readUrl(url, ['redis:', 'rediss:']) || new URL(url).port === '') {
      problems.push(`TESSERA_REDIS_CLUSTER: entry ${index + 1} is not host:port or a redis(s):// URL with a port`)
    }
  }
  if (keyPrefix !== undefined && !keyPrefixPattern.test(keyPrefix)) {
    problems.push('TESSERA_REDIS_KEY_PREFIX: expected 1 to 64 letters, digits, "_", ".", ":" or "-"')
  }

  const postgres: PostgresSettings | null =
    databaseUrl === undefined
      ? null
      : {
          url: databaseUrl,
          schema,
          poolSize: value('TESSERA_DATABASE_POOL_SIZE'),
          migrateOnStart: value('TESSERA_DATABASE_MIGRATE_ON_START'),
        }
  let redis: RedisSettings | null = null
  if (redisUrl !== undefined) redis = { urls: [redisUrl], isCluster: false, keyPrefix }
  else if (seedUrls.length > 0) redis = { urls: seedUrls, isCluster: true, keyPrefix }
  return { postgres, redis, backendTimeoutSeconds: value('TESSERA_BACKEND_TIMEOUT') }
}

/**
 * The URL with its secrets replaced, for display: the password, and every query value (drivers
 * take `?password=`, `?sslpassword=`, tokens …; a value shown is not worth the risk).
 */
export function maskUrlPassword(text: string): string {
  if (!URL.canParse(text)) return '(not a URL, hidden)'
  const url = new URL(text)
  if (url.password !== '') url.password = '***'
  for (const name of new Set(url.searchParams.keys())) url.searchParams.set(name, '***')
  return url.toString()
}

/**
 * A URL whose path may itself be the credential (a chat webhook's `/services/T0/B0/XXXX`): only
 * the scheme, host and port are shown, with the user name if any.
 */
export function maskCapabilityUrl(text: string): string {
  if (!URL.canParse(text)) return '(not a URL, hidden)'
  const url = new URL(text)
  const user = url.username === '' ? '' : `${url.username}:***@`
  const hidden = url.pathname !== '/' || url.search !== '' ? '/(path hidden)' : '/'
  return `${url.protocol}//${user}${url.host}${hidden}`
}

/** The backend settings as `tessera config check` may show them. */
export function describeBackendSettings(settings: BackendSettings): Record<string, unknown> {
  return {
    ...settings,
    postgres: settings.postgres && { ...settings.postgres, url: maskUrlPassword(settings.postgres.url) },
    redis: settings.redis && { ...settings.redis, urls: settings.redis.urls.map(maskUrlPassword) },
  }
}
