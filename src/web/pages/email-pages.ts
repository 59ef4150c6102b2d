/**
 * The pages mailed links lead to, and the request for such a link: forgot password (one answer
 * for every input), set a new password with a reset token, and confirm an email address. The
 * token pages read the token from the URL fragment with a script (fragment-token.ts), or from
 * `?token=` when scripts are off; either way it travels on in a hidden field of a POST form.
 */
import { html, type SafeHtml } from '../html.ts'
import { renderForm, type FieldErrors } from '../forms.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'
import type { MessageKey } from '../i18n/en.ts'

const fragmentScripts = ['web/assets/fragment-token.ts'] as const

/** A card with a heading, one or more paragraphs and a link on: the answers of these pages. */
function renderMessagePage(
  context: PageContext,
  content: {
    title: MessageKey
    paragraphs: readonly SafeHtml[] | readonly string[]
    link: { href: string; label: MessageKey }
  },
): SafeHtml {
  const { t } = context
  return renderPage(context, {
    title: t(content.title),
    main: html`<div class="card narrow">
  <h1>${t(content.title)}</h1>
  ${content.paragraphs.map((paragraph) => html`<p role="status">${paragraph}</p>`)}
  <p class="aside-link"><a href="${content.link.href}">${t(content.link.label)}</a></p>
</div>`,
  })
}

export function renderForgotPasswordPage(
  context: PageContext,
  state: { account: string; errors: FieldErrors },
): SafeHtml {
  const { t } = context
  return renderPage(context, {
    title: t('forgot.title'),
    main: html`<div class="card narrow">
  <h1>${t('forgot.title')}</h1>
  <p>${t('forgot.intro')}</p>
  ${renderForm(context, {
    action: '/forgot-password',
    errors: state.errors,
    submitLabel: t('forgot.submit'),
    fields: [
      {
        name: 'account',
        label: t('forgot.account'),
        hint: t('forgot.accountHint'),
        value: state.account,
        autocomplete: 'username',
        isRequired: true,
        hasInitialFocus: true,
        maxLength: 320,
      },
    ],
  })}
  <p class="aside-link"><a href="/login">${t('forgot.backToSignIn')}</a></p>
</div>`,
  })
}

export function renderForgotPasswordSentPage(context: PageContext): SafeHtml {
  return renderMessagePage(context, {
    title: 'forgot.sentTitle',
    paragraphs: [context.t('forgot.sent')],
    link: { href: '/login', label: 'forgot.backToSignIn' },
  })
}

export function renderResetUnavailablePage(context: PageContext): SafeHtml {
  return renderMessagePage(context, {
    title: 'forgot.title',
    paragraphs: [context.t('forgot.unavailable')],
    link: { href: '/login', label: 'forgot.backToSignIn' },
  })
}

export function renderPasswordResetPage(
  context: PageContext,
  state: { token: string; errors: FieldErrors; passwordMinLength: number },
): SafeHtml {
  const { t } = context
  const form = renderForm(context, {
    action: '/password-reset',
    hidden: { token: state.token },
    errors: state.errors,
    submitLabel: t('reset.submit'),
    fields: [
      {
        name: 'password',
        label: t('reset.password'),
        hint: t('register.passwordHint', { min: state.passwordMinLength }),
        type: 'password',
        autocomplete: 'new-password',
        isRequired: true,
        hasInitialFocus: true,
      },
      {
        name: 'password_repeat',
        label: t('register.passwordRepeat'),
        type: 'password',
        autocomplete: 'new-password',
        isRequired: true,
      },
    ],
  })
  return renderPage(context, {
    title: t('reset.title'),
    scripts: fragmentScripts,
    main: html`<div class="card narrow">
  <h1>${t('reset.title')}</h1>
  <p>${t('reset.intro')}</p>
  ${markFragmentForm(form, false)}
</div>`,
  })
}

/** Wraps the page's form as the one whose hidden `token` the fragment fills (fragment-token.ts). */
function markFragmentForm(form: SafeHtml, isAutoSubmitted: boolean): SafeHtml {
  return isAutoSubmitted
    ? html`<div data-fragment-token data-auto-submit>${form}</div>`
    : html`<div data-fragment-token>${form}</div>`
}

export function renderPasswordResetDonePage(context: PageContext): SafeHtml {
  return renderMessagePage(context, {
    title: 'reset.doneTitle',
    paragraphs: [context.t('reset.done')],
    link: { href: '/login', label: 'reset.signIn' },
  })
}

export function renderResetLinkRefusedPage(context: PageContext): SafeHtml {
  return renderMessagePage(context, {
    title: 'reset.refusedTitle',
    paragraphs: [context.t('reset.refused')],
    link: { href: '/forgot-password', label: 'reset.askAgain' },
  })
}

export function renderVerifyEmailPage(context: PageContext, state: { token: string }): SafeHtml {
  const { t } = context
  const form = renderForm(context, {
    action: '/verify-email',
    hidden: { token: state.token },
    errors: [],
    submitLabel: t('verify.submit'),
    fields: [],
  })
  return renderPage(context, {
    title: t('verify.title'),
    scripts: fragmentScripts,
    main: html`<div class="card narrow">
  <h1>${t('verify.title')}</h1>
  <p>${t('verify.intro')}</p>
  ${markFragmentForm(form, true)}
</div>`,
  })
}

export function renderEmailVerifiedPage(context: PageContext, state: { address: string }): SafeHtml {
  return renderMessagePage(context, {
    title: 'verify.doneTitle',
    paragraphs: [context.t('verify.done', { address: state.address })],
    link: { href: '/account', label: 'verify.toAccount' },
  })
}

export function renderVerifyLinkRefusedPage(context: PageContext): SafeHtml {
  return renderMessagePage(context, {
    title: 'verify.refusedTitle',
    paragraphs: [context.t('verify.refused')],
    link: { href: '/account', label: 'verify.toAccount' },
  })
}
