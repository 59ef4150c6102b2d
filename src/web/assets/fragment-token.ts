/**
 * Moves a token from the URL fragment (`#token=…`, as mailed links carry it) into the hidden
 * field of the form inside `[data-fragment-token]`, then drops the fragment from the address bar and the
 * history. The fragment never reaches any server, so the token stays out of access logs and
 * Referer headers. A form in a `data-auto-submit` wrapper (one with nothing to type) is sent at once.
 */
export {}

const wrapper = document.querySelector<HTMLElement>('[data-fragment-token]')
const form = wrapper?.querySelector('form') ?? null
const field = form?.querySelector<HTMLInputElement>('input[name="token"]') ?? null
const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token')
if (form && field && fromFragment) {
  field.value = fromFragment
  history.replaceState(null, '', location.pathname + location.search)
  if (wrapper?.dataset.autoSubmit !== undefined) form.requestSubmit()
}
