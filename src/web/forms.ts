/**
 * Form fields that are accessible by construction: a label tied to its input, the hint and the
 * error tied by `aria-describedby`, `aria-invalid` on a field in error, focus on the first field
 * in error (`autofocus`, so it works without JavaScript), and a summary at the top that links
 * to each error. Forms are `novalidate`: every message comes from the server, in the page's
 * language, rather than from the browser's own bubbles.
 */
import { html, type SafeHtml } from './html.ts'
import type { PageContext } from './page-context.ts'

/** Messages by field name, in the order the fields appear; `form` is for the form as a whole. */
export type FieldErrors = ReadonlyArray<{ field: string; message: string }>

export interface FieldSpec {
  name: string
  label: string
  type?: 'text' | 'password' | 'datetime-local'
  value?: string
  autocomplete?: string
  hint?: string
  isRequired?: boolean
  /** Focus here when the form has no error (the one field of a page people come to fill). */
  hasInitialFocus?: boolean
  maxLength?: number
  /** A one-time code: digits on a phone keyboard, filled from a text message or the app. */
  isOneTimeCode?: boolean
  extra?: SafeHtml
}

export function hiddenFormToken(context: PageContext): SafeHtml {
  return html`<input type="hidden" name="csrf_token" value="${context.formToken}">`
}

function findError(errors: FieldErrors, name: string): string | null {
  return errors.find((error) => error.field === name)?.message ?? null
}

/** The field that gets focus: the first one in error, else the one marked for initial focus. */
function focusedField(errors: FieldErrors, fields: readonly FieldSpec[]): string | null {
  const inError = fields.find((field) => findError(errors, field.name) !== null)
  if (inError) return inError.name
  if (errors.length > 0) return null
  return fields.find((field) => field.hasInitialFocus)?.name ?? null
}

export function renderErrorSummary(context: PageContext, errors: FieldErrors, fields: readonly FieldSpec[]): SafeHtml {
  if (errors.length === 0) return html``
  const fieldNames = new Set(fields.map((field) => field.name))
  // Focus goes to the first field in error; a form-wide error alone focuses the summary.
  const focusSummary = !errors.some((error) => fieldNames.has(error.field))
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" ${
    focusSummary ? html`autofocus` : ''
  }>
  <h2 id="error-summary-title">${context.t('form.errorSummary')}</h2>
  <ul>${errors.map((error) =>
    fieldNames.has(error.field)
      ? html`<li><a href="#${error.field}">${error.message}</a></li>`
      : html`<li>${error.message}</li>`,
  )}</ul>
</div>`
}

export function renderField(field: FieldSpec, errors: FieldErrors, focus: string | null): SafeHtml {
  const error = findError(errors, field.name)
  const hintId = `${field.name}-hint`
  const errorId = `${field.name}-error`
  const describedBy = [field.hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ')
  return html`<div class="field">
  <label for="${field.name}">${field.label}</label>
  ${field.hint ? html`<span class="hint" id="${hintId}">${field.hint}</span>` : ''}
  ${error ? html`<span class="field-error" id="${errorId}">${error}</span>` : ''}
  <input id="${field.name}" name="${field.name}" type="${field.type ?? 'text'}" ${
    field.value !== undefined && field.type !== 'password' ? html`value="${field.value}"` : ''
  } ${field.autocomplete ? html`autocomplete="${field.autocomplete}"` : ''} ${
    describedBy ? html`aria-describedby="${describedBy}"` : ''
  } ${error ? html`aria-invalid="true"` : ''} ${field.isRequired ? html`required aria-required="true"` : ''} ${
    field.maxLength ? html`maxlength="${field.maxLength}"` : ''
  } ${focus === field.name ? html`autofocus` : ''} ${
    field.isOneTimeCode ? html`inputmode="numeric" autocomplete="one-time-code"` : ''
  } ${field.type === 'text' || field.type === undefined ? html`autocapitalize="none" spellcheck="false"` : ''}>
  ${field.extra ?? ''}
</div>`
}

/** A whole POST form: token, error summary, fields, submit button. */
export function renderForm(
  context: PageContext,
  form: {
    action: string
    fields: readonly FieldSpec[]
    errors: FieldErrors
    submitLabel: string
    hidden?: Readonly<Record<string, string>>
    submitClass?: string
  },
): SafeHtml {
  const focus = focusedField(form.errors, form.fields)
  return html`<form method="post" action="${form.action}" novalidate>
  ${hiddenFormToken(context)}
  ${Object.entries(form.hidden ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
  ${renderErrorSummary(context, form.errors, form.fields)}
  ${form.fields.map((field) => renderField(field, form.errors, focus))}
  <button type="submit" class="${form.submitClass ?? 'block'}">${form.submitLabel}</button>
</form>`
}
