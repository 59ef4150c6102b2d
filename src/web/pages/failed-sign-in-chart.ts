/**
 * Failed sign-ins per hour as a stacked bar chart in server-rendered SVG: no script, no chart
 * library. Each bar has a `<title>` (hover and screen readers), and a sentence under the chart
 * says what it shows for those who cannot see it.
 */
import type { FailedSignInHour } from '../../core/application/audit-trail.ts'
import { html, type SafeHtml } from '../html.ts'
import type { PageContext } from '../page-context.ts'

const width = 720
const height = 220
const margin = { top: 12, right: 8, bottom: 28, left: 40 }

function formatHour(context: PageContext, at: Date): string {
  return new Intl.DateTimeFormat(context.language, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: 'UTC',
  }).format(at)
}

/** A round upper bound for the axis: 1, 2, 5 × 10ⁿ. */
function computeAxisMaximum(value: number): number {
  if (value <= 4) return 4
  const magnitude = 10 ** Math.floor(Math.log10(value))
  return [1, 2, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value) ?? value
}

export function renderFailedSignInChart(context: PageContext, hours: readonly FailedSignInHour[]): SafeHtml {
  const { t } = context
  const totals = hours.map((hour) => hour.failed + hour.throttled)
  const failed = hours.reduce((sum, hour) => sum + hour.failed, 0)
  const throttled = hours.reduce((sum, hour) => sum + hour.throttled, 0)
  const maximum = computeAxisMaximum(Math.max(0, ...totals))
  const plotWidth = width - margin.left - margin.right
  const plotHeight = height - margin.top - margin.bottom
  const slot = plotWidth / Math.max(1, hours.length)
  const barWidth = Math.max(2, slot * 0.7)
  const y = (value: number) => margin.top + plotHeight - (value / maximum) * plotHeight
  const ticks = [0, maximum / 2, maximum]
  const bars = hours.map((hour, index) => {
    const x = margin.left + index * slot + (slot - barWidth) / 2
    const failedTop = y(hour.failed)
    const totalTop = y(hour.failed + hour.throttled)
    const label = t('audit.chartHour', {
      hour: formatHour(context, hour.startsAt),
      failed: hour.failed,
      throttled: hour.throttled,
    })
    return html`<g><title>${label}</title>
  <rect class="bar-failed" x="${x.toFixed(1)}" y="${failedTop.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(y(0) - failedTop).toFixed(1)}"></rect>
  <rect class="bar-throttled" x="${x.toFixed(1)}" y="${totalTop.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(failedTop - totalTop).toFixed(1)}"></rect>
</g>`
  })
  const labels = hours.map((hour, index) =>
    index % 3 === 0
      ? html`<text x="${(margin.left + index * slot + slot / 2).toFixed(1)}" y="${height - 8}" text-anchor="middle">${formatHour(context, hour.startsAt)}</text>`
      : '',
  )
  const busiest = hours.reduce<FailedSignInHour | null>(
    (best, hour) => (best === null || hour.failed + hour.throttled > best.failed + best.throttled ? hour : best),
    null,
  )
  const summary =
    failed + throttled === 0 || busiest === null
      ? t('audit.chartQuiet')
      : t('audit.chartSummary', { failed, throttled, hour: formatHour(context, busiest.startsAt) })
  return html`<figure class="chart" aria-labelledby="chart-heading">
  <svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-heading chart-summary" focusable="false">
    ${ticks.map(
      (
        tick,
      ) => html`<line class="axis" x1="${margin.left}" x2="${width - margin.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}"></line>
    <text x="${margin.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${Math.round(tick)}</text>`,
    )}
    ${bars}
    ${labels}
  </svg>
  <ul class="legend">
    <li><span class="swatch-failed" aria-hidden="true"></span>${t('audit.chartFailed')}</li>
    <li><span class="swatch-throttled" aria-hidden="true"></span>${t('audit.chartThrottled')}</li>
  </ul>
  <figcaption id="chart-summary" class="muted small">${summary}</figcaption>
</figure>`
}
