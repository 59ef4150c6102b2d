/** The account: overview (profile), password change, and the sessions of the account. */
import type { Principal } from '../../core/application/sign-in.ts'
import type { SessionRecord } from '../../core/application/types.ts'
import { describeDevice, renderTableTime, renderTime } from '../format.ts'
import { renderForm, hiddenFormToken, type FieldErrors } from '../forms.ts'
import { html, type SafeHtml } from '../html.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'

const accountScripts = ['web/assets/session-watch.ts'] as const

function requireViewer(context: PageContext): Principal {
  if (!context.viewer) throw new TypeError('an account page without a signed-in viewer')
  return context.viewer
}

function renderNotice(message: string | null): SafeHtml {
  return message === null ? html`` : html`<p class="notice" role="status">${message}</p>`
}

export function renderAccountPage(
  context: PageContext,
  state: { deleteErrors: FieldErrors; notice: string | null },
): SafeHtml {
  const { t } = context
  const { user, session } = requireViewer(context)
  return renderPage(context, {
    title: t('account.title'),
    sections: 'account',
    scripts: accountScripts,
    main: html`<h1>${t('account.heading')}</h1>
${renderNotice(state.notice)}
<section class="card" aria-labelledby="profile-heading">
  <h2 id="profile-heading">${t('account.profile')}</h2>
  <dl class="facts">
    <dt>${t('account.username')}</dt><dd>${user.username}</dd>
    <dt>${t('account.roles')}</dt><dd>${user.roles.map((role) => html`<span class="tag">${role}</span> `)}</dd>
    <dt>${t('account.created')}</dt><dd>${renderTime(context, user.createdAt)}</dd>
    <dt>${t('account.thisSession')}</dt><dd>${renderTime(context, session.createdAt)}</dd>
    <dt>${t('account.userId')}</dt><dd class="mono">${user.id}</dd>
  </dl>
</section>
<section class="card danger-zone" aria-labelledby="delete-heading">
  <h2 id="delete-heading">${t('account.deleteHeading')}</h2>
  <p>${t('account.deleteIntro')}</p>
  <div class="narrow-form">
  ${renderForm(context, {
    action: '/account/delete',
    errors: state.deleteErrors,
    submitLabel: t('account.delete'),
    submitClass: 'danger',
    fields: [
      {
        name: 'password',
        label: t('account.deletePassword'),
        type: 'password',
        autocomplete: 'current-password',
        isRequired: true,
      },
    ],
  })}
  </div>
</section>`,
  })
}

export function renderPasswordPage(
  context: PageContext,
  state: { errors: FieldErrors; notice: string | null; passwordMinLength: number },
): SafeHtml {
  const { t } = context
  return renderPage(context, {
    title: t('password.title'),
    sections: 'account',
    scripts: accountScripts,
    main: html`<h1>${t('password.heading')}</h1>
<section class="card">
  ${renderNotice(state.errors.length === 0 ? state.notice : null)}
  <p>${t('password.intro')}</p>
  <div class="narrow-form">
  ${renderForm(context, {
    action: '/account/password',
    errors: state.errors,
    submitLabel: t('password.submit'),
    submitClass: '',
    fields: [
      {
        name: 'current_password',
        label: t('password.current'),
        type: 'password',
        autocomplete: 'current-password',
        isRequired: true,
      },
      {
        name: 'new_password',
        label: t('password.new'),
        hint: t('register.passwordHint', { min: state.passwordMinLength }),
        type: 'password',
        autocomplete: 'new-password',
        isRequired: true,
      },
      {
        name: 'new_password_repeat',
        label: t('password.repeat'),
        type: 'password',
        autocomplete: 'new-password',
        isRequired: true,
      },
    ],
  })}
  </div>
</section>`,
  })
}

/** One session as a row; the end button names what it ends for screen readers. */
function renderSessionRow(context: PageContext, session: SessionRecord, isCurrent: boolean): SafeHtml {
  const { t } = context
  const device = describeDevice(context, session.userAgent)
  const kind = session.transport === 'cookie' ? t('sessions.kindCookie') : t('sessions.kindToken')
  return html`<tr>
  <td data-label="${t('sessions.device')}">${device} <span class="muted small">(${kind})</span> ${isCurrent ? html`<span class="tag current">${t('sessions.current')}</span>` : ''}
    ${session.userAgent !== '' && session.userAgent !== device ? html`<br><span class="muted small mono" title="${session.userAgent}">${session.userAgent.slice(0, 60)}${session.userAgent.length > 60 ? '…' : ''}</span>` : ''}</td>
  <td data-label="${t('sessions.address')}" class="mono nowrap">${session.ip}</td>
  <td data-label="${t('sessions.started')} (UTC)">${renderTableTime(context, session.createdAt)}</td>
  <td data-label="${t('sessions.lastActive')} (UTC)">${renderTableTime(context, session.lastSeenAt)}</td>
  <td data-label=""><form method="post" action="/account/sessions/end">${hiddenFormToken(context)}
    <input type="hidden" name="session_id" value="${session.id}">
    <button type="submit" class="secondary small" aria-label="${t('sessions.endNamed', { device, address: session.ip })}">${t('sessions.end')}</button>
  </form></td>
</tr>`
}

export function renderSessionsPage(
  context: PageContext,
  state: { sessions: readonly SessionRecord[]; notice: string | null },
): SafeHtml {
  const { t } = context
  const { session: current } = requireViewer(context)
  const others = state.sessions.filter((session) => session.id !== current.id)
  return renderPage(context, {
    title: t('sessions.title'),
    sections: 'account',
    scripts: accountScripts,
    main: html`<h1>${t('sessions.heading')}</h1>
<section class="card">
  ${renderNotice(state.notice)}
  <p>${t('sessions.intro')}</p>
  <div class="table-wrap"><table class="stacked">
    <caption class="visually-hidden">${t('sessions.table')}</caption>
    <thead><tr><th scope="col">${t('sessions.device')}</th><th scope="col">${t('sessions.address')}</th><th scope="col">${t('sessions.started')} (UTC)</th><th scope="col">${t('sessions.lastActive')} (UTC)</th><th scope="col"><span class="visually-hidden">${t('sessions.end')}</span></th></tr></thead>
    <tbody>${state.sessions.map((session) => renderSessionRow(context, session, session.id === current.id))}</tbody>
  </table></div>
  <div class="actions">
    ${
      others.length > 0
        ? html`<form method="post" action="/account/sessions/end-others">${hiddenFormToken(context)}<button type="submit">${t('sessions.endOthers')}</button></form>`
        : html`<p class="muted">${t('sessions.none')}</p>`
    }
  </div>
</section>`,
  })
}
