/** The console's audit trail (filters, chart, events) and the alerts of the security review. */
import type { FailedSignInHour } from '../../core/application/audit-trail.ts'
import { auditEventTypes, type AlertRecord, type AuditEventRecord } from '../../core/application/types.ts'
import { renderTableTime } from '../format.ts'
import { renderErrorSummary, renderField, type FieldErrors, type FieldSpec } from '../forms.ts'
import { html, type SafeHtml } from '../html.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'
import { renderFailedSignInChart } from './failed-sign-in-chart.ts'
import { adminScripts } from './admin-user-pages.ts'

export function renderEventTableHead(context: PageContext): SafeHtml {
  const { t } = context
  return html`<thead><tr>
  <th scope="col">${t('audit.time')}</th><th scope="col">${t('audit.event')}</th><th scope="col">${t('audit.reason')}</th>
  <th scope="col">${t('audit.actor')}</th><th scope="col">${t('audit.subject')}</th><th scope="col">${t('audit.ip')}</th><th scope="col">${t('audit.details')}</th>
</tr></thead>`
}

function renderUserLink(userId: string | null): SafeHtml {
  return userId === null
    ? html`<span class="muted">—</span>`
    : html`<a class="mono" href="/admin/users/${userId}">${userId.slice(0, 8)}</a>`
}

export function renderEventRows(context: PageContext, events: readonly AuditEventRecord[]): SafeHtml {
  const { t } = context
  if (events.length === 0) return html`<tr><td colspan="7" class="muted">${t('audit.none')}</td></tr>`
  // Each cell names its column (data-label), for the narrow layout where rows stack (pages.css).
  return html`${events.map(
    (event) => html`<tr>
  <td data-label="${t('audit.time')}">${renderTableTime(context, event.occurredAt)}</td>
  <td data-label="${t('audit.event')}"><span class="tag ${event.outcome === 'failure' ? 'failure' : ''}">${event.type}</span></td>
  <td data-label="${t('audit.reason')}">${event.reason ?? html`<span class="muted">—</span>`}</td>
  <td data-label="${t('audit.actor')}">${renderUserLink(event.actorUserId)}</td>
  <td data-label="${t('audit.subject')}">${renderUserLink(event.subjectUserId)}${event.username && !event.subjectUserId ? html` <span class="mono small">${event.username.slice(0, 24)}</span>` : ''}</td>
  <td data-label="${t('audit.ip')}" class="mono nowrap">${event.ip ?? '—'}</td>
  <td data-label="${t('audit.details')}" class="small mono">${Object.entries(event.details).map(([key, value]) => html`${key}=${String(value)} `)}</td>
</tr>`,
  )}`
}

export interface AuditFilterValues {
  user: string
  type: string
  outcome: string
  ip: string
  since: string
  until: string
}

export function renderAuditPage(
  context: PageContext,
  state: {
    filters: AuditFilterValues
    errors: FieldErrors
    events: readonly AuditEventRecord[]
    nextPageUrl: string | null
    chart: readonly FailedSignInHour[]
  },
): SafeHtml {
  const { t } = context
  const { filters } = state
  const textFields: FieldSpec[] = [
    { name: 'user', label: t('audit.user'), value: filters.user, maxLength: 64 },
    { name: 'ip', label: t('audit.ip'), value: filters.ip, maxLength: 64 },
    { name: 'since', label: t('audit.since'), type: 'datetime-local', value: filters.since },
    { name: 'until', label: t('audit.until'), type: 'datetime-local', value: filters.until },
  ]
  const focus = textFields.find((field) => state.errors.some((error) => error.field === field.name))?.name ?? null
  const option = (value: string, label: string, current: string) =>
    html`<option value="${value}" ${value === current ? html`selected` : ''}>${label}</option>`
  return renderPage(context, {
    title: t('audit.heading'),
    sections: 'admin',
    scripts: adminScripts,
    main: html`<h1>${t('audit.heading')}</h1>
<section class="card" aria-labelledby="chart-heading">
  <h2 id="chart-heading">${t('audit.chartHeading')}</h2>
  ${renderFailedSignInChart(context, state.chart)}
</section>
<section class="card" aria-labelledby="filters-heading">
  <h2 id="filters-heading">${t('audit.filters')}</h2>
  <form method="get" action="/admin/audit" novalidate>
    ${renderErrorSummary(context, state.errors, textFields)}
    <div class="filters">
      ${renderField(textFields[0] as FieldSpec, state.errors, focus)}
      <div class="field"><label for="type">${t('audit.type')}</label><select id="type" name="type">
        ${option('', t('audit.anyType'), filters.type)}${auditEventTypes.map((type) => option(type, type, filters.type))}
      </select></div>
      <div class="field"><label for="outcome">${t('audit.outcome')}</label><select id="outcome" name="outcome">
        ${option('', t('audit.anyOutcome'), filters.outcome)}${option('success', t('audit.success'), filters.outcome)}${option('failure', t('audit.failure'), filters.outcome)}
      </select></div>
      ${textFields.slice(1).map((field) => renderField(field, state.errors, focus))}
      <div class="actions"><button type="submit">${t('audit.apply')}</button><a href="/admin/audit">${t('audit.clear')}</a></div>
    </div>
  </form>
</section>
<section class="card" aria-labelledby="events-heading">
  <h2 id="events-heading">${t('audit.table')}</h2>
  <div class="table-wrap"><table class="events">${renderEventTableHead(context)}<tbody>${renderEventRows(context, state.events)}</tbody></table></div>
  ${state.nextPageUrl === null ? '' : html`<nav class="pager" aria-label="${t('audit.table')}"><a href="${state.nextPageUrl}" rel="next">${t('audit.next')}</a></nav>`}
</section>`,
  })
}

export function renderAlertsPage(
  context: PageContext,
  state: { alerts: readonly AlertRecord[]; nextPageUrl: string | null },
): SafeHtml {
  const { t } = context
  return renderPage(context, {
    title: t('alerts.heading'),
    sections: 'admin',
    scripts: adminScripts,
    main: html`<h1>${t('alerts.heading')}</h1>
<section class="card">
  <p>${t('alerts.intro')}</p>
  ${
    state.alerts.length === 0
      ? html`<p class="muted">${t('alerts.none')}</p>`
      : html`<div class="table-wrap"><table>
    <caption class="visually-hidden">${t('alerts.table')}</caption>
    <thead><tr><th scope="col">${t('alerts.raised')}</th><th scope="col">${t('alerts.rule')}</th><th scope="col">${t('alerts.severity')}</th><th scope="col">${t('alerts.summary')}</th><th scope="col">${t('alerts.addresses')}</th><th scope="col">${t('alerts.delivery')}</th></tr></thead>
    <tbody>${state.alerts.map(
      (alert) => html`<tr>
      <td>${renderTableTime(context, alert.raisedAt)}</td>
      <td class="mono">${alert.rule}</td>
      <td><span class="tag ${alert.severity === 'high' ? 'high' : ''}">${alert.severity}</span></td>
      <td>${alert.summary}</td>
      <td class="mono small">${alert.evidence.ips.slice(0, 5).join(', ')}</td>
      <td class="small">${alert.deliveryState}</td>
    </tr>`,
    )}</tbody>
  </table></div>`
  }
  ${state.nextPageUrl === null ? '' : html`<nav class="pager" aria-label="${t('alerts.table')}"><a href="${state.nextPageUrl}" rel="next">${t('alerts.next')}</a></nav>`}
</section>`,
  })
}
