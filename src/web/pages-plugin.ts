/**
 * The hosted pages and the admin console, as one encapsulated plugin: form bodies only (the rest
 * of the server stays JSON-only), HTML error pages, the pages' own Content-Security-Policy, and
 * the static assets. Server-rendered, working without JavaScript; a page loads a script only
 * where it adds something, never to work at all.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config/load.ts'
import type { Application } from '../core/application/application.ts'
import { TesseraError } from '../core/errors.ts'
import { acceptOnlyFormBodies } from '../http/form-body.ts'
import { problemTable } from '../http/problem.ts'
import { createAssetTable } from './assets.ts'
import { renderBrandIcon, renderBrandStylesheet } from './brand.ts'
import { createFormGuard } from './form-guard.ts'
import type { MessageKey } from './i18n/en.ts'
import { allowsDataImages, buildContentSecurityPolicy, pageHeaders } from './page-headers.ts'
import { createPageContextFactory } from './page-context.ts'
import type { PageKit } from './page-kit.ts'
import { sendPage } from './page-reply.ts'
import { renderErrorPage } from './pages/error-page.ts'
import { accountRoutes } from './routes/account-routes.ts'
import { adminRoutes } from './routes/admin-routes.ts'
import { emailPageRoutes } from './routes/email-page-routes.ts'
import { visitorRoutes } from './routes/visitor-routes.ts'

export interface PageRouteDeps extends Pick<
  Application,
  | 'signIn'
  | 'mySessions'
  | 'accountAdmin'
  | 'tokenAdmin'
  | 'auditTrail'
  | 'requestLimits'
  | 'secondFactor'
  | 'mfaSignIn'
  | 'passkeys'
  | 'accountLifecycle'
  | 'email'
> {
  config: Pick<Config, 'server' | 'sessions' | 'tokens' | 'passwords' | 'pages'>
}

const assetCacheControl = 'public, max-age=31536000, immutable'

function describeFailure(error: FastifyError): {
  status: number
  message: MessageKey
  values?: Record<string, number>
} {
  if (error instanceof TesseraError) {
    const { status } = problemTable[error.code]
    switch (error.code) {
      case 'not_found':
        return { status, message: 'errorPage.notFound' }
      case 'forbidden':
        return { status, message: 'errorPage.forbidden' }
      case 'csrf_rejected':
        return { status, message: 'errorPage.csrf' }
      case 'rate_limited':
        return {
          status,
          message: 'errorPage.rateLimited',
          values: { seconds: Number(error.details?.retry_after ?? 1) },
        }
      case 'service_unavailable':
      case 'server_busy':
        return { status, message: 'errorPage.unavailable' }
      case 'internal_error':
        return { status, message: 'errorPage.internal' }
      default:
        if (error.details?.field === 'return_to') return { status, message: 'errorPage.returnTo' }
        return {
          status: status >= 500 ? 500 : status,
          message: status >= 500 ? 'errorPage.internal' : 'errorPage.badRequest',
        }
    }
  }
  if (error.validation) return { status: 400, message: 'errorPage.badRequest' }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) return { status, message: 'errorPage.badRequest' }
  return { status: 500, message: 'errorPage.internal' }
}

export async function pageRoutes(app: FastifyInstance, deps: PageRouteDeps): Promise<void> {
  const { config } = deps
  if (!config.pages.isEnabled) return
  const publicOrigin = new URL(config.tokens.issuer).origin
  const assets = createAssetTable({
    brandStylesheet: renderBrandStylesheet(config.pages.colors),
    brandIcon: renderBrandIcon(config.pages.colors),
    logo: config.pages.logo,
  })
  // Only a logo on another origin widens the policy; one served here is 'self' (and asking the
  // table for its URL would read and hash every asset at start).
  const foreignLogoUrl = config.pages.logo?.kind === 'url' ? config.pages.logo.url : null
  const contentSecurityPolicy = buildContentSecurityPolicy({
    logoUrl: foreignLogoUrl,
    allowedOrigins: config.server.allowedOrigins,
  })
  const policyWithDataImages = buildContentSecurityPolicy({
    logoUrl: foreignLogoUrl,
    allowedOrigins: config.server.allowedOrigins,
    allowsDataImages: true,
  })
  const formGuard = createFormGuard({ csrfTokens: deps.signIn, allowedOrigins: config.server.allowedOrigins })
  const contexts = createPageContextFactory({ productName: config.pages.productName, assets, formGuard })
  const kit: PageKit = {
    contexts,
    formGuard,
    signIn: deps.signIn,
    settings: {
      publicOrigin,
      allowedOrigins: config.server.allowedOrigins,
      absoluteTimeoutSeconds: config.sessions.absoluteTimeoutSeconds,
      passwordMinLength: config.passwords.minLength,
      isMailEnabled: deps.email.isMailEnabled,
    },
  }

  acceptOnlyFormBodies(app)
  app.addHook('onSend', async (_request, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', allowsDataImages(reply) ? policyWithDataImages : contentSecurityPolicy)
      for (const [name, value] of Object.entries(pageHeaders)) reply.header(name, value)
    }
    return payload
  })
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof TesseraError && error.code === 'password_change_required' && request.method === 'GET') {
      // An administrator asked for a new password: the password page is the one page open.
      return reply.code(303).header('location', '/account/password?notice=required').send()
    }
    const failure = describeFailure(error)
    if (failure.status >= 500) {
      request.log.error({ err: error }, 'page request failed')
      if (failure.status === 503) reply.header('retry-after', '1')
    }
    if (error instanceof TesseraError && error.code === 'rate_limited')
      reply.header('retry-after', String(error.details?.retry_after ?? 1))
    const context = contexts.create(request, reply, request.auth)
    return sendPage(
      reply,
      failure.status,
      renderErrorPage(context, { message: failure.message, values: failure.values, requestId: request.id }),
    )
  })

  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.find(new URL(request.url, 'http://page.invalid').pathname)
    if (asset === null) throw new TesseraError('not_found', 'No asset at this address.')
    return reply.header('cache-control', assetCacheControl).type(asset.contentType).send(asset.body())
  })

  await app.register(visitorRoutes, {
    kit,
    requestLimits: deps.requestLimits,
    mfaSignIn: deps.mfaSignIn,
    passkeys: deps.passkeys,
  })
  await app.register(accountRoutes, {
    kit,
    mySessions: deps.mySessions,
    secondFactor: deps.secondFactor,
    mfaSignIn: deps.mfaSignIn,
    passkeys: deps.passkeys,
    accountLifecycle: deps.accountLifecycle,
  })
  await app.register(emailPageRoutes, { kit, email: deps.email, requestLimits: deps.requestLimits })
  await app.register(adminRoutes, {
    kit,
    accountAdmin: deps.accountAdmin,
    tokenAdmin: deps.tokenAdmin,
    auditTrail: deps.auditTrail,
    accountLifecycle: deps.accountLifecycle,
    secondFactor: deps.secondFactor,
  })
}
