/**
 * Builds the HTTP application around a core. Never listens: `main.ts` and the CLI do.
 */
import cookie from '@fastify/cookie'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { randomUUID } from 'node:crypto'
import type { Config } from '../config/load.ts'
import type { Application } from '../core/application/application.ts'
import { createAuthenticate } from './plugins/authenticate.ts'
import { registerCors } from './plugins/cors.ts'
import { answerUnknownAddresses, answerUnservedMethods, collectRoutes } from './plugins/method-not-allowed.ts'
import { registerOpenApi } from './plugins/openapi.ts'
import { registerSecurityHeaders, setSecurityHeaders } from './plugins/security-headers.ts'
import { answerFrameworkError, registerProblemHandlers } from './problem.ts'
import { adminRoutes } from './routes/admin.ts'
import { authRoutes } from './routes/auth.ts'
import { meRoutes } from './routes/me.ts'
import { publicRoutes } from './routes/public.ts'
import { sessionRoutes } from './routes/sessions.ts'
import { sharedSchemas } from './schemas/shared.ts'
import { createLazySerializerFactory } from './serialization.ts'
import { createValidatorCompiler } from './validation.ts'
import { scrubLogObject } from './log-scrubbing.ts'
import { createRequestLogger, mixinRequestId } from './request-logger.ts'
import { registerJsonParser } from './json-body.ts'
import type { Metrics } from '../metrics/metrics.ts'
import { registerAuditedDenials } from './plugins/audit-denials.ts'
import { registerMetrics } from './plugins/metrics.ts'
import { alertRoutes } from './routes/alerts.ts'
import { auditRoutes } from './routes/audit.ts'
import { myEventsRoutes } from './routes/my-events.ts'
import { alertSchema, auditEventSchema } from './schemas/audit.ts'
import { createClientErrorHandler } from './client-errors.ts'
import { adminAccountRoutes } from './routes/admin-accounts.ts'
import { registerRequestLimits } from './plugins/request-limits.ts'
import { registerStrictTransport, strictTransportSecurity } from './plugins/strict-transport.ts'
import { registerStoppingAnswers } from './plugins/stopping.ts'
import { createNodeServer, type TlsMaterial } from './server-factory.ts'
import { adminTokenRoutes } from './routes/admin-tokens.ts'
import { oauthRoutes } from './routes/oauth.ts'
import { eventStreamRoutes } from './routes/event-stream.ts'
import { discoveryRoutes } from './routes/discovery.ts'
import { pageRoutes } from '../web/pages-plugin.ts'
import { registerSecondFactorPolicy } from './plugins/second-factor-policy.ts'
import { secondFactorAuthRoutes } from './routes/second-factor-auth.ts'
import { mySecondFactorRoutes } from './routes/my-second-factor.ts'
import { myPasskeyRoutes } from './routes/my-passkeys.ts'
import { adminSecondFactorRoutes } from './routes/admin-second-factor.ts'
import { adminEmailRoutes, myEmailRoutes, passwordResetRoutes } from './routes/email.ts'
import { ticketRoutes } from './routes/tickets.ts'
import { dataRoutes } from './routes/data.ts'
import { deviceRoutes } from './routes/devices.ts'
import { adminLifecycleRoutes } from './routes/admin-lifecycle.ts'
import { registerPasswordChangePolicy } from './plugins/password-change-policy.ts'

export interface AppDeps {
  config: Pick<
    Config,
    'server' | 'sessions' | 'tokens' | 'metrics' | 'passwords' | 'pages' | 'eventStream' | 'gameData'
  >
  application: Application
  /** Pino options, or false for no logging (tests). */
  logger: FastifyServerOptions['logger']
  /** Prometheus metrics served at /metrics; none when absent. */
  metrics?: Metrics
  /** Certificate and key to serve HTTPS with (read from TESSERA_TLS_CERT / TESSERA_TLS_KEY). */
  tls?: TlsMaterial | null
}

const defaultBodyLimitBytes = 1024 * 1024

/** Pino options that keep secrets out of the log. */
export function createLoggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-csrf-token"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.current_password',
        '*.new_password',
        '*.refresh_token',
        '*.access_token',
        '*.token',
        'req.headers["x-api-key"]',
        '*.authorization',
        '*.cookie',
        '*.secret',
        '*.client_secret',
        '*.passwordHash',
        '*.password_hash',
        '*.sessionToken',
        '*.refreshToken',
        '*.accessToken',
        '*.privateJwk',
        '*.privateJwkCiphertext',
      ],
      censor: '[redacted]',
    },
    // Paths catch the known places; this catches a secret nested anywhere else in a log object.
    formatters: { log: scrubLogObject },
    mixin: mixinRequestId,
    serializers: {
      // The path only: a query string may carry a token someone sent by mistake.
      req: (request: { method: string; url: string; id: string; ip?: string }) => ({
        id: request.id,
        method: request.method,
        path: request.url.split('?')[0],
        ip: request.ip,
      }),
    },
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, application } = deps
  const routerOptions = { ignoreTrailingSlash: true, maxParamLength: 200 }
  const app = Fastify({
    logger: deps.logger,
    genReqId: () => randomUUID(),
    childLoggerFactory: createRequestLogger,
    requestIdHeader: false,
    bodyLimit: defaultBodyLimitBytes,
    // Forwarded addresses are believed only from the configured number of proxy hops.
    trustProxy:
      config.server.trustProxyHops > 0 ? (_address: string, hop: number) => hop < config.server.trustProxyHops : false,
    serverFactory: (handler) => createNodeServer(handler, config.server, deps.tls ?? null),
    clientErrorHandler: createClientErrorHandler(config.server.isHttps),
    requestTimeout: config.server.requestTimeoutSeconds * 1000,
    connectionTimeout: config.server.requestTimeoutSeconds * 1000,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Answered by registerStoppingAnswers instead, as a problem document with the usual headers.
    return503OnClosing: false,
    routerOptions,
    schemaController: { compilersFactory: { buildSerializer: createLazySerializerFactory() } },
    frameworkErrors: (error, request, reply) => {
      // Routing errors are answered outside the hooks: the headers every answer carries are set here.
      setSecurityHeaders(reply)
      if (config.server.isHttps) reply.header('strict-transport-security', strictTransportSecurity)
      answerFrameworkError(error, request, reply)
    },
  })
  app.server.headersTimeout = config.server.headersTimeoutSeconds * 1000
  app.setValidatorCompiler(createValidatorCompiler())
  app.removeAllContentTypeParsers()
  registerJsonParser(app, 'application/json')
  const routes = collectRoutes(app, routerOptions)
  answerUnknownAddresses(app, routes)
  registerProblemHandlers(app)
  registerStoppingAnswers(app)
  registerSecurityHeaders(app)
  registerStrictTransport(app, config.server.isHttps)
  // Before the request limits, so a throttled answer carries CORS headers and its Retry-After can be read.
  await registerCors(app, config.server.allowedOrigins, routes)
  registerRequestLimits(app, application.requestLimits)
  app.decorateRequest('auth', null)
  for (const schema of sharedSchemas) app.addSchema(schema)
  for (const schema of [auditEventSchema, alertSchema]) app.addSchema(schema)
  registerAuditedDenials(app, application.auditTrail)
  await app.register(cookie)
  await registerOpenApi(app, config.tokens.issuer)
  if (deps.metrics) registerMetrics(app, deps.metrics, config.metrics.token)

  const { signIn, mySessions, accountAdmin, tokenAdmin, oauth, auditTrail, health } = application
  const { secondFactor, mfaSignIn, passkeys, accountLifecycle, presence } = application
  registerSecondFactorPolicy(app, secondFactor)
  registerPasswordChangePolicy(app, accountLifecycle)
  const { absoluteTimeoutSeconds, idleTimeoutSeconds } = config.sessions
  const allowedOrigins = config.server.allowedOrigins
  const authenticate = createAuthenticate({ signIn, allowedOrigins })
  await app.register(publicRoutes, { health, tokenAdmin })
  await app.register(authRoutes, { signIn, absoluteTimeoutSeconds, allowedOrigins, authenticate, prefix: '/v1/auth' })
  await app.register(meRoutes, { signIn, accountLifecycle, absoluteTimeoutSeconds, authenticate, prefix: '/v1/me' })
  await app.register(sessionRoutes, { mySessions, idleTimeoutSeconds, authenticate, prefix: '/v1/sessions' })
  await app.register(adminRoutes, { accountAdmin, email: application.email, authenticate, prefix: '/v1/admin' })
  await app.register(auditRoutes, { auditTrail, accountAdmin, authenticate, prefix: '/v1/admin/audit' })
  await app.register(alertRoutes, { auditTrail, authenticate, prefix: '/v1/admin/alerts' })
  await app.register(myEventsRoutes, { auditTrail, authenticate, prefix: '/v1/me/events' })
  await app.register(adminAccountRoutes, { accountAdmin, authenticate, prefix: '/v1/admin' })
  await app.register(adminTokenRoutes, { tokenAdmin, authenticate, prefix: '/v1/admin' })
  await app.register(oauthRoutes, { oauth, tokenSettings: config.tokens, prefix: '/v1/oauth' })
  await app.register(eventStreamRoutes, {
    oauth,
    eventStream: application.eventStream,
    limits: config.eventStream,
    prefix: '/v1/events',
  })
  await app.register(discoveryRoutes, { issuer: config.tokens.issuer, tokenAdmin })
  await app.register(pageRoutes, {
    signIn,
    mySessions,
    accountAdmin,
    tokenAdmin,
    auditTrail,
    secondFactor,
    mfaSignIn,
    passkeys,
    config,
    requestLimits: application.requestLimits,
    accountLifecycle: application.accountLifecycle,
    email: application.email,
  })
  await app.register(secondFactorAuthRoutes, {
    signIn,
    mfaSignIn,
    passkeys,
    absoluteTimeoutSeconds,
    allowedOrigins,
    authenticate,
    prefix: '/v1/auth',
  })
  await app.register(mySecondFactorRoutes, { secondFactor, authenticate, prefix: '/v1/me/mfa' })
  await app.register(myPasskeyRoutes, { passkeys, authenticate, prefix: '/v1/me/passkeys' })
  await app.register(adminSecondFactorRoutes, { secondFactor, accountAdmin, authenticate, prefix: '/v1/admin' })
  await app.register(passwordResetRoutes, { email: application.email, prefix: '/v1/auth' })
  await app.register(myEmailRoutes, { email: application.email, authenticate, prefix: '/v1/me/email' })
  await app.register(adminEmailRoutes, { email: application.email, authenticate, prefix: '/v1/admin' })
  await app.register(ticketRoutes, { tickets: application.tickets, oauth, authenticate, prefix: '/v1/tickets' })
  await app.register(deviceRoutes, {
    devices: application.devices,
    signIn,
    absoluteTimeoutSeconds,
    allowedOrigins,
    authenticate,
  })
  await app.register(dataRoutes, {
    gameData: application.gameData,
    oauth,
    authenticate,
    maxBytes: Math.max(config.gameData.sessionDataMaxBytes, config.gameData.playerDataMaxBytes),
  })
  await app.register(adminLifecycleRoutes, {
    accountAdmin,
    accountLifecycle,
    presence,
    idleTimeoutSeconds,
    authenticate,
    prefix: '/v1/admin',
  })
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return app.swagger()
  })
  answerUnservedMethods(app, routes)
  return app
}
