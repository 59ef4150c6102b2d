/**
 * The account's passkeys: the list (name, kind, added, last used) with a remove button each, and
 * a form to add one. Adding runs the browser's WebAuthn ceremony, so that part needs the page's
 * script; without it the page says so and the rest still works.
 */
import type { PasskeyRecord } from '../../core/application/passkeys.ts'
import { renderTableTime } from '../format.ts'
import { hiddenFormToken, renderErrorSummary, renderField, type FieldErrors, type FieldSpec } from '../forms.ts'
import { html, type SafeHtml } from '../html.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'
import { passkeyScripts } from './second-step-page.ts'

function renderPasskeyRow(context: PageContext, passkey: PasskeyRecord): SafeHtml {
  const { t } = context
  return html`<tr>
  <td>${passkey.name}</td>
  <td>${passkey.isBackupEligible ? t('passkeys.synced') : t('passkeys.deviceBound')}</td>
  <td>${renderTableTime(context, passkey.createdAt)}</td>
  <td>${passkey.lastUsedAt ? renderTableTime(context, passkey.lastUsedAt) : t('passkeys.never')}</td>
  <td><form method="post" action="/account/passkeys/remove">${hiddenFormToken(context)}
    <input type="hidden" name="passkey_id" value="${passkey.id}">
    <button type="submit" class="secondary small" aria-label="${t('passkeys.removeNamed', { name: passkey.name })}">${t('passkeys.remove')}</button>
  </form></td>
</tr>`
}

export function renderPasskeysPage(
  context: PageContext,
  state: { passkeys: readonly PasskeyRecord[]; notice: string | null; errors: FieldErrors; name: string },
): SafeHtml {
  const { t } = context
  const nameField: FieldSpec = {
    name: 'name',
    label: t('passkeys.addName'),
    hint: t('passkeys.addNameHint'),
    value: state.name,
    maxLength: 64,
    isRequired: true,
  }
  const focus = state.errors.some((error) => error.field === 'name') ? 'name' : null
  return renderPage(context, {
    title: t('passkeys.title'),
    sections: 'account',
    scripts: ['web/assets/session-watch.ts', ...passkeyScripts],
    main: html`<h1>${t('passkeys.heading')}</h1>
<section class="card">
  ${state.notice === null || state.errors.length > 0 ? '' : html`<p class="notice" role="status">${state.notice}</p>`}
  <p>${t('passkeys.intro')}</p>
  ${
    state.passkeys.length === 0
      ? html`<p class="muted">${t('passkeys.none')}</p>`
      : html`<div class="table-wrap"><table>
    <caption class="visually-hidden">${t('passkeys.heading')}</caption>
    <thead><tr><th scope="col">${t('passkeys.name')}</th><th scope="col">${t('passkeys.kind')}</th><th scope="col">${t('passkeys.created')}</th><th scope="col">${t('passkeys.lastUsed')}</th><th scope="col"><span class="visually-hidden">${t('passkeys.remove')}</span></th></tr></thead>
    <tbody>${state.passkeys.map((passkey) => renderPasskeyRow(context, passkey))}</tbody>
  </table></div>`
  }
</section>
<section class="card" aria-labelledby="add-heading">
  <h2 id="add-heading">${t('passkeys.addHeading')}</h2>
  <p class="muted" data-passkey-fallback>${t('passkeys.needsScript')}</p>
  <div class="passkey-option" data-passkey-ceremony="register" data-options-url="/v1/me/passkeys/options" data-failed="${t('passkeys.failed')}" hidden>
    <form method="post" action="/account/passkeys" novalidate>
      ${hiddenFormToken(context)}
      <input type="hidden" name="credential" value="" data-credential>
      ${renderErrorSummary(context, state.errors, [nameField])}
      <div class="inline-form">${renderField(nameField, state.errors, focus)}<button type="submit">${t('passkeys.add')}</button></div>
    </form>
    <p class="field-error passkey-status" aria-live="assertive" data-passkey-status></p>
  </div>
</section>`,
  })
}
