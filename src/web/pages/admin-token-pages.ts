/**
 * The console's signing keys (rotate; emergency rotation behind a typed confirmation) and service
 * clients (create, with the secret shown on that one answer only; delete after a confirmation).
 */
import { signingAlgorithms, type ServiceClientRecord, type SigningKeyView } from '../../core/application/types.ts'
import { renderTableTime } from '../format.ts'
import { hiddenFormToken, renderErrorSummary, renderField, renderForm, type FieldErrors } from '../forms.ts'
import { html, type SafeHtml } from '../html.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'
import { adminScripts } from './admin-user-pages.ts'

function renderAlgorithmSelect(context: PageContext, id: string, current: string): SafeHtml {
  return html`<div class="field"><label for="${id}">${context.t('keys.algorithmLabel')}</label>
  <select id="${id}" name="algorithm">${signingAlgorithms.map(
    (algorithm) =>
      html`<option value="${algorithm}" ${algorithm === current ? html`selected` : ''}>${algorithm}</option>`,
  )}</select></div>`
}

export function renderKeysPage(
  context: PageContext,
  state: { keys: readonly SigningKeyView[]; notice: string | null; algorithm: string },
): SafeHtml {
  const { t } = context
  return renderPage(context, {
    title: t('keys.heading'),
    sections: 'admin',
    scripts: adminScripts,
    main: html`<h1>${t('keys.heading')}</h1>
${state.notice === null ? '' : html`<p class="notice" role="status">${state.notice}</p>`}
<section class="card">
  <p>${t('keys.intro')}</p>
  <div class="table-wrap"><table>
    <caption class="visually-hidden">${t('keys.table')}</caption>
    <thead><tr><th scope="col">${t('keys.kid')}</th><th scope="col">${t('keys.algorithm')}</th><th scope="col">${t('keys.state')}</th><th scope="col">${t('keys.created')}</th><th scope="col">${t('keys.activates')}</th><th scope="col">${t('keys.retires')}</th></tr></thead>
    <tbody>${state.keys.map(
      (key) => html`<tr>
      <td class="mono">${key.kid}</td><td>${key.algorithm}</td>
      <td><span class="tag ${key.state === 'active' ? 'current' : ''}">${t(`keys.state.${key.state}`)}</span></td>
      <td>${renderTableTime(context, key.createdAt)}</td><td>${renderTableTime(context, key.activatesAt)}</td>
      <td>${key.retiresAt === null ? '—' : renderTableTime(context, key.retiresAt)}</td>
    </tr>`,
    )}</tbody>
  </table></div>
</section>
<section class="card" aria-labelledby="rotate-heading">
  <h2 id="rotate-heading">${t('keys.rotateHeading')}</h2>
  <form method="post" action="/admin/keys/rotate" class="inline-form">${hiddenFormToken(context)}
    ${renderAlgorithmSelect(context, 'algorithm', state.algorithm)}
    <button type="submit">${t('keys.rotate')}</button>
  </form>
</section>
<section class="card danger-zone" aria-labelledby="emergency-heading">
  <h2 id="emergency-heading">${t('keys.emergencyHeading')}</h2>
  <p>${t('keys.emergencyIntro')}</p>
  <p><a class="button secondary" href="/admin/keys/emergency">${t('keys.emergency')}</a></p>
</section>`,
  })
}

export function renderEmergencyConfirmation(
  context: PageContext,
  state: { errors: FieldErrors; algorithm: string },
): SafeHtml {
  const { t } = context
  const confirmField = {
    name: 'confirmation',
    label: t('keys.confirmLabel'),
    isRequired: true,
    maxLength: 16,
    hasInitialFocus: true,
  }
  const focus = 'confirmation'
  return renderPage(context, {
    title: t('keys.confirmTitle'),
    sections: 'admin',
    scripts: adminScripts,
    main: html`<section class="card danger-zone">
  <h1>${t('keys.confirmHeading')}</h1>
  <p>${t('keys.confirmIntro')}</p>
  <form method="post" action="/admin/keys/emergency" novalidate>${hiddenFormToken(context)}
    ${renderErrorSummary(context, state.errors, [confirmField])}
    ${renderAlgorithmSelect(context, 'algorithm', state.algorithm)}
    ${renderField(confirmField, state.errors, focus)}
    <div class="actions"><button type="submit" class="danger">${t('keys.confirm')}</button><a href="/admin/keys">${t('keys.cancel')}</a></div>
  </form>
</section>`,
  })
}

export interface ClientsPageState {
  clients: readonly ServiceClientRecord[]
  errors: FieldErrors
  name: string
  notice: string | null
  /** Only on the answer to the creation: the one time the secret is shown. */
  created: { client: ServiceClientRecord; secret: string } | null
}

export function renderClientsPage(context: PageContext, state: ClientsPageState): SafeHtml {
  const { t } = context
  const created = state.created
  return renderPage(context, {
    title: t('clients.heading'),
    sections: 'admin',
    scripts: [...adminScripts, 'web/assets/copy-button.ts'],
    main: html`<h1>${t('clients.heading')}</h1>
${state.notice === null ? '' : html`<p class="notice" role="status">${state.notice}</p>`}
${
  created === null
    ? ''
    : html`<section class="card" aria-labelledby="created-heading">
  <h2 id="created-heading" tabindex="-1" autofocus>${t('clients.createdHeading', { name: created.client.name })}</h2>
  <p>${t('clients.secretOnce')}</p>
  <dl class="facts"><dt>${t('clients.id')}</dt><dd class="mono">${created.client.id}</dd></dl>
  <p id="secret-label"><strong>${t('clients.secret')}</strong></p>
  <div class="secret"><output id="client-secret" class="mono" aria-labelledby="secret-label">${created.secret}</output>
    <button type="button" class="secondary" data-copy="client-secret" data-copied="${t('clients.copied')}" hidden>${t('clients.copy')}</button></div>
  <p id="client-secret-status" role="status" class="muted small"></p>
  <p><a href="/admin/clients">${t('clients.done')}</a></p>
</section>`
}
<section class="card">
  <p>${t('clients.intro')}</p>
  ${
    state.clients.length === 0
      ? html`<p class="muted">${t('clients.none')}</p>`
      : html`<div class="table-wrap"><table>
    <caption class="visually-hidden">${t('clients.table')}</caption>
    <thead><tr><th scope="col">${t('clients.name')}</th><th scope="col">${t('clients.id')}</th><th scope="col">${t('clients.created')}</th><th scope="col"><span class="visually-hidden">${t('clients.delete')}</span></th></tr></thead>
    <tbody>${state.clients.map(
      (client) => html`<tr>
      <td>${client.name}</td><td class="mono">${client.id}</td><td>${renderTableTime(context, client.createdAt)}</td>
      <td><a href="/admin/clients/${client.id}/delete" aria-label="${t('clients.deleteNamed', { name: client.name })}">${t('clients.delete')}</a></td>
    </tr>`,
    )}</tbody>
  </table></div>`
  }
</section>
<section class="card" aria-labelledby="create-heading">
  <h2 id="create-heading">${t('clients.createHeading')}</h2>
  ${renderForm(context, {
    action: '/admin/clients',
    errors: state.errors,
    submitLabel: t('clients.create'),
    submitClass: '',
    fields: [
      {
        name: 'name',
        label: t('clients.nameLabel'),
        hint: t('clients.nameHint'),
        value: state.name,
        maxLength: 64,
        isRequired: true,
      },
    ],
  })}
</section>`,
  })
}

export function renderClientDeleteConfirmation(context: PageContext, client: ServiceClientRecord): SafeHtml {
  const { t } = context
  return renderPage(context, {
    title: t('clients.confirmTitle'),
    sections: 'admin',
    scripts: adminScripts,
    main: html`<section class="card danger-zone">
  <h1>${t('clients.confirmHeading', { name: client.name })}</h1>
  <p>${t('clients.confirmIntro')}</p>
  <dl class="facts"><dt>${t('clients.id')}</dt><dd class="mono">${client.id}</dd></dl>
  <form method="post" action="/admin/clients/${client.id}/delete">${hiddenFormToken(context)}
    <div class="actions"><button type="submit" class="danger">${t('clients.confirm')}</button><a href="/admin/clients">${t('common.cancel')}</a></div>
  </form>
</section>`,
  })
}
