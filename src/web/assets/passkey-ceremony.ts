/**
 * Passkey ceremonies of the pages, through @simplewebauthn/browser: each container marked
 * `data-passkey-ceremony` (hidden until this script finds WebAuthn in the browser) holds a form
 * with a hidden field for the credential. Pressing its button asks Tessera's API for options,
 * runs the browser's ceremony, puts the credential's JSON in the field and sends the form; the
 * page's route verifies it, as every other form of the pages. Nothing works by this script
 * alone, and without it the rest of the page still does.
 *
 * * `sign-in`: a discoverable passkey, no username (`POST /v1/auth/passkey/options`).
 * * `second-step`: a passkey of the account, after its password (`POST /v1/auth/mfa/passkey-options`).
 * * `register`: a new passkey for the signed-in account (`POST /v1/me/passkeys/options`); a
 *   session authenticated too long ago goes to the page that confirms it is you first.
 */
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser'

type Ceremony = 'sign-in' | 'second-step' | 'register'

async function fetchOptions(url: string, body: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  })
}

async function runCeremony(container: HTMLElement, form: HTMLFormElement, kind: Ceremony): Promise<void> {
  const field = form.querySelector<HTMLInputElement>('input[data-credential]')
  const status = container.querySelector<HTMLElement>('[data-passkey-status]')
  if (field === null) return
  const name = form.querySelector<HTMLInputElement>('input[name="name"]')
  if (name !== null && name.value.trim() === '') {
    // Nothing to name the passkey by: the page's route says so, before any ceremony.
    form.submit()
    return
  }
  const fail = (message: string) => {
    if (status !== null) status.textContent = message
  }
  const challenge = form.querySelector<HTMLInputElement>('input[name="challenge"]')?.value
  const response = await fetchOptions(
    container.dataset.optionsUrl ?? '',
    kind === 'second-step' ? { challenge: challenge ?? '' } : {},
  )
  if (response.status === 403 && kind === 'register') {
    const problem = (await response.json()) as { code?: string }
    if (problem.code === 'reauthentication_required') {
      location.assign(`/account/reauthenticate?return_to=${encodeURIComponent(location.pathname)}`)
      return
    }
  }
  if (!response.ok) {
    fail(container.dataset.failed ?? '')
    return
  }
  const optionsJSON = await response.json()
  try {
    const credential =
      kind === 'register' ? await startRegistration({ optionsJSON }) : await startAuthentication({ optionsJSON })
    field.value = JSON.stringify(credential)
  } catch {
    // Cancelled, timed out, or no passkey for this site here: the page stays as it is.
    fail(container.dataset.failed ?? '')
    return
  }
  form.submit()
}

if (browserSupportsWebAuthn()) {
  document.querySelectorAll<HTMLElement>('[data-passkey-ceremony]').forEach((container) => {
    const kind = container.dataset.passkeyCeremony as Ceremony
    const form = container.querySelector('form')
    if (form === null) return
    container.hidden = false
    document.querySelector<HTMLElement>('[data-passkey-fallback]')?.setAttribute('hidden', '')
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')
      if (button !== null) button.disabled = true
      void runCeremony(container, form, kind).finally(() => {
        if (button !== null) button.disabled = false
      })
    })
  })
}
