/** Registration: username and password, the password typed twice. */
import { html, type SafeHtml } from '../html.ts'
import { renderForm, type FieldErrors } from '../forms.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'

export function renderRegisterPage(
  context: PageContext,
  state: { username: string; errors: FieldErrors; returnTo: string | null; passwordMinLength: number },
): SafeHtml {
  const { t } = context
  const signInLink = state.returnTo === null ? '/login' : `/login?return_to=${encodeURIComponent(state.returnTo)}`
  return renderPage(context, {
    title: t('register.title'),
    main: html`<div class="card narrow">
  <h1>${t('register.heading', { product: context.productName })}</h1>
  ${renderForm(context, {
    action: '/register',
    hidden: state.returnTo === null ? {} : { return_to: state.returnTo },
    errors: state.errors,
    submitLabel: t('register.submit'),
    fields: [
      {
        name: 'username',
        label: t('register.username'),
        hint: t('register.usernameHint'),
        value: state.username,
        autocomplete: 'username',
        isRequired: true,
        hasInitialFocus: true,
        maxLength: 64,
      },
      {
        name: 'password',
        label: t('register.password'),
        hint: t('register.passwordHint', { min: state.passwordMinLength }),
        type: 'password',
        autocomplete: 'new-password',
        isRequired: true,
      },
      {
        name: 'password_repeat',
        label: t('register.passwordRepeat'),
        type: 'password',
        autocomplete: 'new-password',
        isRequired: true,
      },
    ],
  })}
  <p class="aside-link">${t('register.haveAccount')} <a href="${signInLink}">${t('register.signIn')}</a></p>
</div>`,
  })
}
