/**
 * "Copy" buttons next to a value shown once (a service client's secret): the button names the
 * element to copy with `data-copy`, and says "copied" in the page's language (`data-copied`) to
 * screen readers too. Without JavaScript the button stays hidden and the value can be selected.
 */
export {}

document.querySelectorAll<HTMLButtonElement>('button[data-copy]').forEach((button) => {
  const source = document.getElementById(button.dataset.copy ?? '')
  if (source === null || navigator.clipboard === undefined) return
  button.hidden = false
  button.addEventListener('click', async () => {
    await navigator.clipboard.writeText(source.textContent ?? '')
    const status = document.getElementById(`${button.dataset.copy ?? ''}-status`)
    if (status !== null) status.textContent = button.dataset.copied ?? ''
  })
})
