/** The sign-in page: username and password (a second step comes with the second factor). */
import { html, type SafeHtml } from '../html.ts'
import { renderForm, type FieldErrors } from '../forms.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'
import type { MessageKey } from '../i18n/en.ts'
import { hiddenFormToken } from '../forms.ts'
import { passkeyScripts } from './second-step-page.ts'

export const signInNotices = [
  'signed_out',
  'ended',
  'registered',
  'password_changed',
  'second_step_expired',
  'deleted',
] as const
export type SignInNotice = (typeof signInNotices)[number]

const noticeMessages: Record<SignInNotice, MessageKey> = {
  signed_out: 'signIn.signedOut',
  ended: 'signIn.sessionEnded',
  registered: 'signIn.registered',
  password_changed: 'signIn.passwordChanged',
  second_step_expired: 'signIn.secondStepExpired',
  deleted: 'signIn.deleted',
}

export function renderSignInPage(
  context: PageContext,
  state: {
    username: string
    errors: FieldErrors
    returnTo: string | null
    notice: SignInNotice | null
    canResetPassword?: boolean
  },
): SafeHtml {
  const { t } = context
  const registerLink =
    state.returnTo === null ? '/register' : `/register?return_to=${encodeURIComponent(state.returnTo)}`
  return renderPage(context, {
    title: t('signIn.title'),
    scripts: passkeyScripts,
    main: html`<div class="card narrow">
  <h1>${t('signIn.heading', { product: context.productName })}</h1>
  ${state.notice && state.errors.length === 0 ? html`<p class="notice" role="status">${t(noticeMessages[state.notice])}</p>` : ''}
  ${renderForm(context, {
    action: '/login',
    hidden: state.returnTo === null ? {} : { return_to: state.returnTo },
    errors: state.errors,
    submitLabel: t('signIn.submit'),
    fields: [
      {
        name: 'username',
        label: t('signIn.username'),
        value: state.username,
        autocomplete: 'username',
        isRequired: true,
        hasInitialFocus: true,
        maxLength: 256,
      },
      {
        name: 'password',
        label: t('signIn.password'),
        type: 'password',
        autocomplete: 'current-password',
        isRequired: true,
      },
    ],
  })}
  ${state.canResetPassword ? html`<p class="aside-link"><a href="/forgot-password">${t('signIn.forgotPassword')}</a></p>` : ''}
  <div class="passkey-option" data-passkey-ceremony="sign-in" data-options-url="/v1/auth/passkey/options" data-failed="${t('passkeys.failed')}" hidden>
    <p class="divider"><span>${t('signIn.or')}</span></p>
    <form method="post" action="/login/passkey">
      ${hiddenFormToken(context)}
      ${state.returnTo === null ? '' : html`<input type="hidden" name="return_to" value="${state.returnTo}">`}
      <input type="hidden" name="credential" value="" data-credential>
      <button type="submit" class="secondary block">${t('signIn.passkey')}</button>
    </form>
    <p class="field-error passkey-status" aria-live="assertive" data-passkey-status></p>
  </div>
  <p class="aside-link">${t('signIn.noAccount')} <a href="${registerLink}">${t('signIn.register')}</a></p>
</div>`,
  })
}
