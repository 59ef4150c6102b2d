/** How pages show times and devices. Times are in UTC, said so, in the page's language. */
import Bowser from 'bowser'
import { html, type SafeHtml } from './html.ts'
import type { PageContext } from './page-context.ts'

/** A time as text ("Dec 7, 2026, 10:00 UTC"), for a sentence that holds it. */
export function formatTime(context: PageContext, at: Date): string {
  const text = new Intl.DateTimeFormat(context.language, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(at)
  return context.t('time.utc', { time: text })
}

export function renderTime(context: PageContext, at: Date): SafeHtml {
  return html`<time datetime="${at.toISOString()}">${formatTime(context, at)}</time>`
}

/** A timestamp in a table whose column already says UTC. */
export function renderTableTime(context: PageContext, at: Date): SafeHtml {
  const text = new Intl.DateTimeFormat(context.language, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZone: 'UTC',
  }).format(at)
  return html`<time datetime="${at.toISOString()}">${text}</time>`
}

/** "Chrome 126 on Windows" from a user agent; the raw text (bounded at sign-in) when it says nothing known. */
export function describeDevice(context: PageContext, userAgent: string): string {
  if (userAgent === '') return context.t('sessions.unknownDevice')
  const parsed = Bowser.parse(userAgent)
  const browserName = parsed.browser.name ?? ''
  if (browserName === '') return userAgent.slice(0, 80)
  const major = parsed.browser.version?.split('.')[0]
  const browser = major ? `${browserName} ${major}` : browserName
  const os = parsed.os.name ?? ''
  return os === '' ? browser : context.t('sessions.deviceOn', { browser, os })
}
