/**
 * The console's users: the list, and one user in sections (account, roles, sessions, lock-out,
 * recent events). Sections for disabling, deleting, resetting and the second factor take their
 * place in `renderUserPage` as they come.
 */
import type { SecondFactorStatus } from '../../core/application/second-factor.ts'
import type { AuditEventRecord, SessionRecord, UserRecord } from '../../core/application/types.ts'
import { describeDevice, renderTableTime, renderTime } from '../format.ts'
import { hiddenFormToken, renderErrorSummary, renderField, type FieldErrors } from '../forms.ts'
import { html, type SafeHtml } from '../html.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'
import { renderEventRows, renderEventTableHead } from './admin-trail-pages.ts'

export const adminScripts = ['web/assets/session-watch.ts'] as const

function renderStatus(context: PageContext, user: UserRecord): SafeHtml {
  return user.disabledAt === null
    ? html`<span class="tag">${context.t('users.active')}</span>`
    : html`<span class="tag failure">${context.t('users.disabled')}</span>`
}

export function renderUsersPage(
  context: PageContext,
  state: { users: readonly UserRecord[]; nextCursor: string | null; isFirstPage: boolean; query: string },
): SafeHtml {
  const { t } = context
  const searchField = { name: 'q', label: t('users.searchLabel'), value: state.query, maxLength: 64 }
  const pageQuery = state.query === '' ? '' : `&q=${encodeURIComponent(state.query)}`
  return renderPage(context, {
    title: t('users.heading'),
    sections: 'admin',
    scripts: adminScripts,
    main: html`<h1>${t('users.heading')}</h1>
<section class="card">
  <form method="get" action="/admin/users" role="search" class="inline-form">${renderField(searchField, [], null)}<button type="submit" class="secondary">${t('users.searchSubmit')}</button></form>
</section>
<section class="card">
  ${
    state.users.length === 0
      ? html`<p>${state.query === '' ? t('users.none') : t('users.noMatch')}</p>`
      : html`<div class="table-wrap"><table>
    <caption class="visually-hidden">${t('users.table')}</caption>
    <thead><tr><th scope="col">${t('users.username')}</th><th scope="col">${t('users.roles')}</th><th scope="col">${t('users.status')}</th><th scope="col">${t('users.created')} (UTC)</th></tr></thead>
    <tbody>${state.users.map(
      (user) => html`<tr>
      <td><a href="/admin/users/${user.id}">${user.username}</a></td>
      <td>${user.roles.map((role) => html`<span class="tag">${role}</span> `)}</td>
      <td>${renderStatus(context, user)}</td>
      <td>${renderTableTime(context, user.createdAt)}</td>
    </tr>`,
    )}</tbody>
  </table></div>`
  }
  <nav class="pager" aria-label="${t('users.table')}">
    ${state.isFirstPage ? '' : html`<a href="/admin/users${pageQuery === '' ? '' : `?${pageQuery.slice(1)}`}">${t('users.first')}</a>`}
    ${state.nextCursor === null ? '' : html`<a href="/admin/users?cursor=${state.nextCursor}${pageQuery}" rel="next">${t('users.next')}</a>`}
  </nav>
</section>`,
  })
}

export interface UserPageState {
  user: UserRecord
  sessions: readonly SessionRecord[]
  events: readonly AuditEventRecord[]
  secondFactor: SecondFactorStatus
  roleErrors: FieldErrors
  roleValue: string
  passwordErrors: FieldErrors
  notice: string | null
}

/** Sign out everywhere, disable or enable, the password, and the second factor. */
function renderActions(context: PageContext, state: UserPageState): SafeHtml {
  const { t } = context
  const { user } = state
  const passwordField = {
    name: 'new_password',
    label: t('user.newPassword'),
    hint: t('user.newPasswordHint'),
    type: 'password' as const,
    autocomplete: 'new-password',
  }
  const noteField = { name: 'note', label: t('user.disableNote'), maxLength: 200 }
  const focus = state.passwordErrors.length > 0 ? 'new_password' : null
  return html`<section class="card" aria-labelledby="actions-heading">
  <h2 id="actions-heading">${t('user.actionsHeading')}</h2>
  <p>${t('user.kickIntro')}</p>
  <form method="post" action="/admin/users/${user.id}/kick">${hiddenFormToken(context)}<button type="submit" class="secondary">${t('user.kick')}</button></form>
  ${
    user.disabledAt === null
      ? html`<form method="post" action="/admin/users/${user.id}/disable" class="actions" novalidate>${hiddenFormToken(context)}
      <div class="inline-form">${renderField(noteField, [], null)}<button type="submit" class="danger">${t('user.disable')}</button></div></form>`
      : html`<form method="post" action="/admin/users/${user.id}/enable" class="actions">${hiddenFormToken(context)}<button type="submit">${t('user.enable')}</button></form>`
  }
</section>
<section class="card" aria-labelledby="password-heading">
  <h2 id="password-heading">${t('user.passwordHeading')}</h2>
  <form method="post" action="/admin/users/${user.id}/password" novalidate>${hiddenFormToken(context)}
    ${renderErrorSummary(context, state.passwordErrors, [passwordField])}
    ${renderField(passwordField, state.passwordErrors, focus)}
    <div class="field checkbox"><input type="checkbox" id="require_change" name="require_change"> <label for="require_change">${t('user.requireChange')}</label></div>
    <button type="submit" class="secondary">${t('user.savePassword')}</button>
  </form>
</section>
<section class="card" aria-labelledby="mfa-heading">
  <h2 id="mfa-heading">${t('user.mfaHeading')}</h2>
  <p>${t('user.mfaState', { state: state.secondFactor.isEnabled ? t('user.mfaOn') : t('user.mfaOff'), count: state.secondFactor.passkeyCount })}</p>
  <form method="post" action="/admin/users/${user.id}/reset-mfa">${hiddenFormToken(context)}<button type="submit" class="secondary">${t('user.resetMfa')}</button></form>
</section>`
}

function renderRoles(context: PageContext, state: UserPageState): SafeHtml {
  const { t } = context
  const { user } = state
  const stamp = user.updatedAt.toISOString()
  const grantField = {
    name: 'role',
    label: t('user.grantLabel'),
    hint: t('user.grantHint'),
    value: state.roleValue,
    maxLength: 32,
    isRequired: true,
  }
  const focus = state.roleErrors.length > 0 ? 'role' : null
  return html`<section class="card" aria-labelledby="roles-heading">
  <h2 id="roles-heading">${t('user.rolesHeading')}</h2>
  ${
    user.roles.length === 0
      ? html`<p class="muted">${t('user.noRoles')}</p>`
      : html`<ul class="role-list">${user.roles.map(
          (
            role,
          ) => html`<li>${role}<form method="post" action="/admin/users/${user.id}/roles">${hiddenFormToken(context)}
      <input type="hidden" name="action" value="revoke"><input type="hidden" name="role" value="${role}"><input type="hidden" name="updated_at" value="${stamp}">
      <button type="submit" class="secondary small" aria-label="${t('user.revokeNamed', { role })}">${t('user.revoke')}</button></form></li>`,
        )}</ul>`
  }
  <form method="post" action="/admin/users/${user.id}/roles" novalidate>
    ${hiddenFormToken(context)}
    <input type="hidden" name="action" value="grant"><input type="hidden" name="updated_at" value="${stamp}">
    ${renderErrorSummary(context, state.roleErrors, [grantField])}
    <div class="inline-form">${renderField(grantField, state.roleErrors, focus)}<button type="submit">${t('user.grant')}</button></div>
  </form>
</section>`
}

function renderUserSessions(context: PageContext, sessions: readonly SessionRecord[]): SafeHtml {
  const { t } = context
  return html`<section class="card" aria-labelledby="sessions-heading">
  <h2 id="sessions-heading">${t('user.sessionsHeading')}</h2>
  ${
    sessions.length === 0
      ? html`<p class="muted">${t('user.noSessions')}</p>`
      : html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">${t('sessions.device')}</th><th scope="col">${t('sessions.address')}</th><th scope="col">${t('sessions.started')} (UTC)</th><th scope="col">${t('sessions.lastActive')} (UTC)</th></tr></thead>
    <tbody>${sessions.map(
      (session) => html`<tr>
      <td>${describeDevice(context, session.userAgent)} <span class="muted small">(${session.transport === 'cookie' ? t('sessions.kindCookie') : t('sessions.kindToken')})</span></td>
      <td class="mono nowrap">${session.ip}</td>
      <td>${renderTableTime(context, session.createdAt)}</td>
      <td>${renderTableTime(context, session.lastSeenAt)}</td>
    </tr>`,
    )}</tbody>
  </table></div>`
  }
</section>`
}

export function renderUserPage(context: PageContext, state: UserPageState): SafeHtml {
  const { t } = context
  const { user } = state
  return renderPage(context, {
    title: t('user.heading', { username: user.username }),
    sections: 'admin',
    scripts: adminScripts,
    main: html`<h1>${t('user.heading', { username: user.username })}</h1>
${state.notice === null ? '' : html`<p class="notice" role="status">${state.notice}</p>`}
<section class="card" aria-labelledby="summary-heading">
  <h2 id="summary-heading">${t('user.summary')}</h2>
  <dl class="facts">
    <dt>${t('user.id')}</dt><dd class="mono">${user.id}</dd>
    <dt>${t('user.status')}</dt><dd>${renderStatus(context, user)}</dd>
    <dt>${t('user.created')}</dt><dd>${renderTime(context, user.createdAt)}</dd>
    <dt>${t('user.updated')}</dt><dd>${renderTime(context, user.updatedAt)}</dd>
  </dl>
</section>
${renderRoles(context, state)}
${renderUserSessions(context, state.sessions)}
${renderActions(context, state)}
<section class="card" aria-labelledby="lock-heading">
  <h2 id="lock-heading">${t('user.lockHeading')}</h2>
  <p>${t('user.lockIntro')}</p>
  <form method="post" action="/admin/users/${user.id}/unlock">${hiddenFormToken(context)}<button type="submit" class="secondary">${t('user.unlock')}</button></form>
</section>
<section class="card" aria-labelledby="events-heading">
  <h2 id="events-heading">${t('user.eventsHeading')}</h2>
  <div class="table-wrap"><table class="events">${renderEventTableHead(context)}<tbody>${renderEventRows(context, state.events)}</tbody></table></div>
  <p><a href="/admin/audit?user=${user.id}">${t('user.allEvents')}</a></p>
</section>`,
  })
}
