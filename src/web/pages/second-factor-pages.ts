/**
 * The account's second factor: its state and actions, the enrolment of an authenticator app (the
 * QR code and the key, shown on the answer to "set up" only, then confirmation by a code), the
 * recovery codes (shown on the one answer that made them), and the page that confirms it is you
 * before a sensitive change when the session's authentication is too old.
 */
import type { SecondFactorStatus } from '../../core/application/second-factor.ts'
import { formatTime } from '../format.ts'
import { hiddenFormToken, renderForm, type FieldErrors, type FieldSpec } from '../forms.ts'
import { html, type SafeHtml } from '../html.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'

const accountScripts = ['web/assets/session-watch.ts'] as const

function renderNotice(message: string | null): SafeHtml {
  return message === null ? html`` : html`<p class="notice" role="status">${message}</p>`
}

export function renderSecondFactorPage(
  context: PageContext,
  state: { status: SecondFactorStatus; notice: string | null; errors: FieldErrors },
): SafeHtml {
  const { t } = context
  const { status } = state
  const facts = html`<dl class="facts">
    <dt>${t('mfa.status')}</dt><dd>${status.isEnabled && status.enabledAt ? t('mfa.statusOn', { time: formatTime(context, status.enabledAt) }) : t('mfa.statusOff')}</dd>
    ${status.isEnabled ? html`<dt>${t('mfa.recoveryLeft')}</dt><dd>${status.recoveryCodesLeft}</dd>` : ''}
    <dt>${t('mfa.passkeyCount')}</dt><dd><a href="/account/passkeys">${status.passkeyCount}</a></dd>
  </dl>`
  const actions = status.isEnabled
    ? html`<div class="actions">
    <form method="post" action="/account/second-factor/recovery-codes">${hiddenFormToken(context)}<button type="submit" class="secondary">${t('mfa.regenerate')}</button></form>
    <form method="post" action="/account/second-factor/disable">${hiddenFormToken(context)}<button type="submit" class="danger">${t('mfa.disable')}</button></form>
  </div>`
    : html`<form method="post" action="/account/second-factor/totp" class="actions">${hiddenFormToken(context)}<button type="submit">${t('mfa.setUp')}</button></form>`
  return renderPage(context, {
    title: t('mfa.title'),
    sections: 'account',
    scripts: accountScripts,
    main: html`<h1>${t('mfa.heading')}</h1>
<section class="card">
  ${renderNotice(state.errors.length === 0 ? state.notice : null)}
  ${state.errors.map((error) => html`<div class="error-summary" role="alert"><p>${error.message}</p></div>`)}
  <p>${t('mfa.intro')}</p>
  ${status.isRequired && !status.isEnabled ? html`<p><strong>${t('mfa.required')}</strong></p>` : ''}
  ${facts}
  ${actions}
</section>`,
  })
}

/** Groups of four, as authenticator apps print keys; the spaces are not part of the key. */
function groupKey(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ')
}

const confirmField = (context: PageContext): FieldSpec => ({
  name: 'code',
  label: context.t('secondStep.code'),
  hint: context.t('secondStep.codeHint'),
  isOneTimeCode: true,
  isRequired: true,
  maxLength: 16,
})

/** The QR code (a data: image, which this page's policy alone allows) and the key, then the confirming code. */
export function renderTotpSetupPage(
  context: PageContext,
  state: { enrolment: { secret: string; qrCode: string; expiresInSeconds: number } | null; errors: FieldErrors },
): SafeHtml {
  const { t } = context
  const { enrolment } = state
  return renderPage(context, {
    title: t('mfa.setupHeading'),
    sections: 'account',
    scripts: accountScripts,
    main: html`<h1>${t('mfa.setupHeading')}</h1>
<section class="card">
  ${
    enrolment === null
      ? ''
      : html`<p>${t('mfa.setupScan')}</p>
  <img class="qr" src="${enrolment.qrCode}" alt="${t('mfa.qrAlt')}" width="256" height="256">
  <p id="key-label">${t('mfa.secretIntro')}</p>
  <p><output class="key" aria-labelledby="key-label">${groupKey(enrolment.secret)}</output></p>
  <p>${t('mfa.setupConfirm', { minutes: Math.round(enrolment.expiresInSeconds / 60) })}</p>`
  }
  <div class="narrow-form">
  ${renderForm(context, {
    action: '/account/second-factor/totp/confirm',
    errors: state.errors,
    submitLabel: t('mfa.confirm'),
    submitClass: '',
    fields: [{ ...confirmField(context), hasInitialFocus: true }],
  })}
  </div>
  ${
    enrolment === null
      ? html`<form method="post" action="/account/second-factor/totp" class="actions">${hiddenFormToken(context)}<button type="submit" class="secondary">${t('mfa.setUp')}</button></form>`
      : ''
  }
</section>`,
  })
}

export function renderRecoveryCodesPage(
  context: PageContext,
  state: { codes: readonly string[]; isNewEnrolment: boolean },
): SafeHtml {
  const { t } = context
  return renderPage(context, {
    title: t('mfa.codesHeading'),
    sections: 'account',
    scripts: [...accountScripts, 'web/assets/copy-button.ts'],
    main: html`<h1>${t('mfa.codesHeading')}</h1>
<section class="card">
  <p class="notice" role="status">${state.isNewEnrolment ? t('mfa.codesIntro') : t('mfa.codesRegenerated')}</p>
  <h2 id="codes-label" class="visually-hidden">${t('mfa.codesLabel')}</h2>
  <ul id="recovery-codes" class="code-list" aria-labelledby="codes-label">${state.codes.map((code) => html`<li>${code}</li>`)}</ul>
  <div class="actions">
    <button type="button" class="secondary" data-copy="recovery-codes" data-copied="${t('clients.copied')}" hidden>${t('clients.copy')}</button>
    <a class="button" href="/account/second-factor">${t('mfa.codesDone')}</a>
  </div>
  <p id="recovery-codes-status" role="status" class="muted small"></p>
</section>`,
  })
}

export function renderReauthenticationPage(
  context: PageContext,
  state: { asksForCode: boolean; returnTo: string; errors: FieldErrors },
): SafeHtml {
  const { t } = context
  const fields: FieldSpec[] = [
    {
      name: 'password',
      label: t('signIn.password'),
      type: 'password',
      autocomplete: 'current-password',
      isRequired: true,
      hasInitialFocus: true,
    },
  ]
  if (state.asksForCode) fields.push(confirmField(context))
  return renderPage(context, {
    title: t('reauth.title'),
    sections: 'account',
    scripts: accountScripts,
    main: html`<h1>${t('reauth.heading')}</h1>
<section class="card">
  <p>${state.asksForCode ? t('reauth.introMfa') : t('reauth.intro')}</p>
  <div class="narrow-form">
  ${renderForm(context, {
    action: '/account/reauthenticate',
    hidden: { return_to: state.returnTo },
    errors: state.errors,
    submitLabel: t('reauth.submit'),
    submitClass: '',
    fields,
  })}
  </div>
</section>`,
  })
}
