/**
 * The frame of every page: head (stylesheets, scripts as external modules only), the site header
 * with the product's name or logo, the main navigation, the language switcher and the sign-out
 * form, and for the account and the console a list of their sections beside the content. A
 * section added later (second factor, passkeys, user administration) is one entry in a list here.
 */
import { html, type SafeHtml } from './html.ts'
import type { MessageKey } from './i18n/en.ts'
import { catalogues, languages } from './i18n/languages.ts'
import type { PageContext } from './page-context.ts'
import { hiddenFormToken } from './forms.ts'

export interface PageFrame {
  title: string
  main: SafeHtml
  /** Section navigation beside the content. */
  sections?: 'account' | 'admin'
  /** Page scripts by their path under src/ (web/assets/…); loaded as modules. */
  scripts?: readonly string[]
}

const accountSections: ReadonlyArray<{ path: string; label: MessageKey }> = [
  { path: '/account', label: 'account.overview' },
  { path: '/account/password', label: 'password.title' },
  { path: '/account/sessions', label: 'sessions.title' },
  { path: '/account/second-factor', label: 'mfa.title' },
  { path: '/account/passkeys', label: 'passkeys.title' },
]

const adminSections: ReadonlyArray<{ path: string; label: MessageKey }> = [
  { path: '/admin/users', label: 'admin.users' },
  { path: '/admin/audit', label: 'admin.audit' },
  { path: '/admin/alerts', label: 'admin.alerts' },
  { path: '/admin/keys', label: 'admin.keys' },
  { path: '/admin/clients', label: 'admin.clients' },
]

/** The section a page belongs to: its own path, or a path below it (a user below the user list). */
function isCurrent(context: PageContext, path: string): boolean {
  const isSectionRoot = path === '/account' || path === '/admin'
  return context.path === path || (!isSectionRoot && context.path.startsWith(`${path}/`))
}

function renderLanguageSwitch(context: PageContext): SafeHtml {
  const { t } = context
  const links = languages.map((language) => {
    const query = new URLSearchParams(context.queryWithoutLanguage)
    query.set('lang', language)
    return html`<li><a href="${`${context.path}?${query}`}" lang="${language}" hreflang="${language}" ${
      language === context.language ? html`aria-current="true"` : ''
    }>${catalogues[language]['language.name']}</a></li>`
  })
  return html`<nav class="language-switch" aria-label="${t('language.switch')}"><ul>${links}</ul></nav>`
}

function renderHeader(context: PageContext): SafeHtml {
  const { t, viewer, assets, productName } = context
  const home = viewer ? '/account' : '/login'
  const brand = assets.logoUrl
    ? html`<img src="${assets.logoUrl}" alt=""><span>${productName}</span>`
    : html`<span class="brand-mark" aria-hidden="true">${[...productName][0] ?? ''}</span><span>${productName}</span>`
  const link = (path: string, label: MessageKey) =>
    html`<li><a href="${path}" ${isCurrent(context, path) ? html`aria-current="page"` : ''}>${t(label)}</a></li>`
  const primary = viewer
    ? html`<ul>${link('/account', 'nav.account')}${viewer.user.roles.includes('admin') ? link('/admin', 'nav.admin') : ''}</ul>
        <form method="post" action="/logout">${hiddenFormToken(context)}<button type="submit" class="secondary small">${t('nav.signOut')}</button></form>`
    : html`<ul>${link('/login', 'nav.signIn')}${link('/register', 'nav.register')}</ul>`
  return html`<header class="site-header">
  <a class="brand" href="${home}">${brand}</a>
  <div class="site-nav">
    <nav aria-label="${t('nav.primary')}">${primary}</nav>
    ${renderLanguageSwitch(context)}
  </div>
</header>`
}

function renderSections(context: PageContext, kind: 'account' | 'admin'): SafeHtml {
  const { t } = context
  const entries = kind === 'account' ? accountSections : adminSections
  const label = kind === 'account' ? t('account.sectionsLabel') : t('admin.sectionsLabel')
  return html`<nav class="section-nav" aria-label="${label}"><ul>${entries.map(
    ({ path, label: key }) =>
      html`<li><a href="${path}" ${isCurrent(context, path) ? html`aria-current="page"` : ''}>${t(key)}</a></li>`,
  )}</ul></nav>`
}

export function renderPage(context: PageContext, frame: PageFrame): SafeHtml {
  const { t, assets, productName } = context
  const content = frame.sections
    ? html`<div class="with-sections">${renderSections(context, frame.sections)}<div>${frame.main}</div></div>`
    : frame.main
  return html`<!doctype html>
<html lang="${context.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${frame.title} · ${productName}</title>
<link rel="icon" href="${assets.urlOf('icon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assets.urlOf('brand.css')}">
<link rel="stylesheet" href="${assets.urlOf('web/assets/pages.css')}">
${(frame.scripts ?? []).map((script) => html`<script type="module" src="${assets.urlOf(script)}"></script>`)}
</head>
<body>
<a class="skip-link" href="#main">${t('skip.main')}</a>
${renderHeader(context)}
<main id="main" tabindex="-1">${content}</main>
</body>
</html>
`
}
