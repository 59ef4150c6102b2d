import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { html, joinHtml, SafeHtml } from './html.ts'

describe('html``', () => {
  it('escapes every interpolated text, in content and in quoted attributes', () => {
    const hostile = `"><script>alert('x')</script>&`
    assert.equal(
      html`<p title="${hostile}">${hostile}</p>`.toString(),
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>',
    )
  })

  it('keeps markup built by html`` and lists of it, and renders nothing for null, undefined and false', () => {
    const items = ['a<b', 'c'].map((item) => html`<li>${item}</li>`)
    assert.equal(
      html`<ul>${items}</ul>${null}${undefined}${false}${0}`.toString(),
      '<ul><li>a&lt;b</li><li>c</li></ul>0',
    )
    assert.equal(joinHtml([html`<b>x</b>`, '<i>'], ', ').toString(), '<b>x</b>, &lt;i&gt;')
  })

  it('cannot be forged: SafeHtml is built by the template only', () => {
    assert.throws(() => new SafeHtml('<script>', Symbol('SafeHtml') as never), TypeError)
  })
})
