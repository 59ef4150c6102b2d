/** The page shown when a page request is refused or fails: what happened, in words, and a way on. */
import { html, type SafeHtml } from '../html.ts'
import type { MessageKey } from '../i18n/en.ts'
import { renderPage } from '../layout.ts'
import type { PageContext } from '../page-context.ts'

export function renderErrorPage(
  context: PageContext,
  problem: { message: MessageKey; values?: Readonly<Record<string, string | number>>; requestId: string },
): SafeHtml {
  const { t } = context
  return renderPage(context, {
    title: t('errorPage.title'),
    main: html`<div class="card narrow">
  <h1>${t('errorPage.title')}</h1>
  <p>${t(problem.message, problem.values)}</p>
  <p class="muted small">${t('errorPage.reference', { id: problem.requestId })}</p>
  <p><a href="/">${t('errorPage.home')}</a></p>
</div>`,
  })
}
