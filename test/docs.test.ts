import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { settings } from '../src/config/schema.ts'

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

describe('documentation', () => {
  it('docs/config.md describes every setting and no setting that does not exist', () => {
    const doc = read('docs/config.md')
    for (const name of Object.keys(settings)) assert.match(doc, new RegExp(`\`${name}\``), name)
    for (const [mentioned] of doc.matchAll(/TESSERA_[A-Z0-9_]+/g)) {
      assert.ok(mentioned === 'TESSERA_CONFIG_FILE' || mentioned in settings, `${mentioned} is documented but unknown`)
    }
  })

  it('the README gives the start and test commands that CI runs', () => {
    const readme = read('README.md')
    const ci = read('.ci/run')
    assert.match(readme, /npm install && npm start/)
    const testCommand = /npm ci && npm test/
    assert.match(readme, testCommand)
    assert.match(ci, testCommand)
  })
})
