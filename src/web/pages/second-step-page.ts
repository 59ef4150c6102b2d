/**
 * The second step of a sign-in, after a correct password on an account with a second factor: a
 * code from the authenticator app, or (behind a disclosure that works without JavaScript) one of
 * the recovery codes, or, when the account has one and the browser can, a passkey. Every form
 * carries the sign-in's challenge, which the password step handed out; it is spent or refused
 * by the same operation as `POST /v1/auth/mfa`.
 */
import { renderErrorSummary, renderField, hiddenFormToken, type FieldErrors, type FieldSpec } from '../forms.ts'
import { html, type SafeHtml } from '../html.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'

export interface SecondStepState {
  challenge: string
  returnTo: string | null
  allowsPasskey: boolean
  errors: FieldErrors
}

export const passkeyScripts = ['web/assets/passkey-ceremony.ts'] as const

function renderHidden(context: PageContext, state: SecondStepState): SafeHtml {
  return html`${hiddenFormToken(context)}<input type="hidden" name="challenge" value="${state.challenge}">${
    state.returnTo === null ? '' : html`<input type="hidden" name="return_to" value="${state.returnTo}">`
  }${state.allowsPasskey ? html`<input type="hidden" name="passkey_offered" value="true">` : ''}`
}

/** The focus of a form: its field in error, or (first form only, no error anywhere) its field. */
function focusOf(field: FieldSpec, errors: FieldErrors, isFirst: boolean): string | null {
  if (errors.some((error) => error.field === field.name)) return field.name
  return isFirst && errors.length === 0 ? field.name : null
}

export function renderSecondStepPage(context: PageContext, state: SecondStepState): SafeHtml {
  const { t } = context
  const codeField: FieldSpec = {
    name: 'code',
    label: t('secondStep.code'),
    hint: t('secondStep.codeHint'),
    isOneTimeCode: true,
    isRequired: true,
    maxLength: 16,
  }
  const recoveryField: FieldSpec = {
    name: 'recovery_code',
    label: t('secondStep.recoveryCode'),
    hint: t('secondStep.recoveryHint'),
    isRequired: true,
    maxLength: 64,
  }
  const codeErrors = state.errors.filter((error) => error.field !== 'recovery_code')
  const recoveryErrors = state.errors.filter((error) => error.field === 'recovery_code')
  return renderPage(context, {
    title: t('secondStep.title'),
    scripts: state.allowsPasskey ? passkeyScripts : [],
    main: html`<div class="card narrow">
  <h1>${t('secondStep.heading')}</h1>
  <p>${t('secondStep.intro')}</p>
  <form method="post" action="/login/second-step" novalidate>
    ${renderHidden(context, state)}
    ${renderErrorSummary(context, codeErrors, [codeField])}
    ${renderField(codeField, codeErrors, focusOf(codeField, codeErrors, recoveryErrors.length === 0))}
    <button type="submit" class="block">${t('secondStep.submit')}</button>
  </form>
  ${
    state.allowsPasskey
      ? html`<div class="passkey-option" data-passkey-ceremony="second-step" data-options-url="/v1/auth/mfa/passkey-options" data-failed="${t('passkeys.failed')}" hidden>
    <p class="divider"><span>${t('secondStep.or')}</span></p>
    <form method="post" action="/login/second-step">
      ${renderHidden(context, state)}
      <input type="hidden" name="passkey" value="" data-credential>
      <button type="submit" class="secondary block">${t('secondStep.usePasskey')}</button>
    </form>
    <p class="field-error passkey-status" aria-live="assertive" data-passkey-status></p>
  </div>`
      : ''
  }
  <details class="recovery" ${recoveryErrors.length > 0 ? html`open` : ''}>
    <summary>${t('secondStep.useRecovery')}</summary>
    <form method="post" action="/login/second-step" novalidate>
      ${renderHidden(context, state)}
      ${renderErrorSummary(context, recoveryErrors, [recoveryField])}
      ${renderField(recoveryField, recoveryErrors, focusOf(recoveryField, recoveryErrors, false))}
      <button type="submit" class="secondary block">${t('secondStep.submitRecovery')}</button>
    </form>
  </details>
  <p class="aside-link"><a href="/login">${t('secondStep.startOver')}</a></p>
</div>`,
  })
}
