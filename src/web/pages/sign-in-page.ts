/** The sign-in page: username and password (a second step comes with the second factor). */
import { html, type SafeHtml } from '../html.ts'
import { renderForm, type FieldErrors } from '../forms.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'
import type { MessageKey } from '../i18n/en.ts'

export const signInNotices = ['signed_out', 'ended', 'registered', 'password_changed'] as const
export type SignInNotice = (typeof signInNotices)[number]

const noticeMessages: Record<SignInNotice, MessageKey> = {
  signed_out: 'signIn.signedOut',
  ended: 'signIn.sessionEnded',
  registered: 'signIn.registered',
  password_changed: 'signIn.passwordChanged',
}

export function renderSignInPage(
  context: PageContext,
  state: { username: string; errors: FieldErrors; returnTo: string | null; notice: SignInNotice | null; canResetPassword?: boolean },
): SafeHtml {
  const { t } = context
  const registerLink = state.returnTo === null ? '/register' : `/register?return_to=${encodeURIComponent(state.returnTo)}`
  return renderPage(context, {
    title: t('signIn.title'),
    main: html`<div class="card narrow">
  <h1>${t('signIn.heading', { product: context.productName })}</h1>
  ${state.notice && state.errors.length === 0 ? html`<p class="notice" role="status">${t(noticeMessages[state.notice])}</p>` : ''}
  ${renderForm(context, {
    action: '/login',
    hidden: state.returnTo === null ? {} : { return_to: state.returnTo },
    errors: state.errors,
    submitLabel: t('signIn.submit'),
    fields: [
      { name: 'username', label: t('signIn.username'), value: state.username, autocomplete: 'username', isRequired: true, hasInitialFocus: true, maxLength: 256 },
      { name: 'password', label: t('signIn.password'), type: 'password', autocomplete: 'current-password', isRequired: true },
    ],
  })}
  ${state.canResetPassword ? html`<p class="aside-link"><a href="/forgot-password">${t('signIn.forgotPassword')}</a></p>` : ''}
  <p class="aside-link">${t('signIn.noAccount')} <a href="${registerLink}">${t('signIn.register')}</a></p>
</div>`,
  })
}
