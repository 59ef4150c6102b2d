/**
 * The one way pages build HTML: the `html` tagged template escapes every interpolated value
 * unless it is itself the result of `html` (or a list of them), so text from a user, a setting
 * or a record can never become markup. Attribute values must be quoted in the template; the
 * escaping covers both quote characters, so a value cannot leave its attribute either.
 */

/** Markup built by `html`: trusted because every value in it was escaped on the way in. */
export class SafeHtml {
  readonly #text: string

  constructor(text: string, token: typeof constructionToken) {
    if (token !== constructionToken) throw new TypeError('SafeHtml is built by the html template only')
    this.#text = text
  }

  toString(): string {
    return this.#text
  }
}

// Only this module can build SafeHtml, so no caller can mark arbitrary text as safe.
const constructionToken = Symbol('SafeHtml')

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[]

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => escapes[character] ?? character)
}

function renderValue(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString()
  if (Array.isArray(value)) return value.map((item: HtmlValue) => renderValue(item)).join('')
  // null, undefined and false render nothing, so `${condition && html`…`}` reads naturally.
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let text = strings[0] ?? ''
  for (let index = 0; index < values.length; index += 1) {
    text += renderValue(values[index]) + (strings[index + 1] ?? '')
  }
  return new SafeHtml(text, constructionToken)
}

/** Joins fragments with a separator (itself escaped unless it is markup). */
export function joinHtml(parts: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  const rendered = renderValue(separator)
  return new SafeHtml(parts.map((part) => renderValue(part)).join(rendered), constructionToken)
}
