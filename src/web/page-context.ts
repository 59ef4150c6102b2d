/**
 * What every page is rendered with: the language and its translator, the branding, the asset
 * URLs, the form token of this browser, and who is signed in.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../core/application/sign-in.ts'
import type { AssetTable } from './assets.ts'
import type { FormGuard } from './form-guard.ts'
import {
  chooseFromAcceptLanguage,
  createTranslator,
  isLanguage,
  type Language,
  type Translate,
} from './i18n/languages.ts'

export const languageCookieName = '__Host-lang'
const languageCookieSeconds = 365 * 24 * 3600

export interface PageContext {
  language: Language
  t: Translate
  productName: string
  assets: AssetTable
  /** The path of this page (no query), for navigation state. */
  path: string
  /** The query of this page without `lang`, to build the language switcher's links. */
  queryWithoutLanguage: URLSearchParams
  /** The token every form of this page carries. */
  formToken: string
  viewer: Principal | null
}

export interface PageContextFactory {
  create(request: FastifyRequest, reply: FastifyReply, viewer: Principal | null): PageContext
}

/**
 * The language of a request: `?lang=` (which the switcher's links set, and which is then kept in
 * a cookie), then that cookie, then `Accept-Language`.
 */
export function chooseLanguage(request: FastifyRequest, reply: FastifyReply | null): Language {
  const query = new URL(request.url, 'http://page.invalid').searchParams.get('lang')
  if (isLanguage(query)) {
    // A display preference, not state anyone could abuse: a link may set it.
    reply?.setCookie(languageCookieName, query, {
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
      path: '/',
      maxAge: languageCookieSeconds,
    })
    return query
  }
  const cookie = request.cookies[languageCookieName]
  if (isLanguage(cookie)) return cookie
  return chooseFromAcceptLanguage(request.headers['accept-language'])
}

export function createPageContextFactory(deps: {
  productName: string
  assets: AssetTable
  formGuard: FormGuard
}): PageContextFactory {
  const { productName, assets, formGuard } = deps
  return {
    create(request, reply, viewer) {
      const language = chooseLanguage(request, reply)
      const url = new URL(request.url, 'http://page.invalid')
      url.searchParams.delete('lang')
      return {
        language,
        t: createTranslator(language),
        productName,
        assets,
        path: url.pathname,
        queryWithoutLanguage: url.searchParams,
        formToken: viewer ? formGuard.sessionToken(viewer.session.id) : formGuard.visitorToken(request, reply),
        viewer,
      }
    },
  }
}
