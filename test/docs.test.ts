import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { settings } from '../src/config/schema.ts'
import { renderConfigDoc } from '../scripts/config-doc.ts'
import { renderConfusablesTable } from '../scripts/confusables-table.ts'

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

describe('documentation', () => {
  it('docs/config.md is the rendering of the settings schema (run `npm run docs` after a change)', () => {
    assert.equal(read('docs/config.md'), renderConfigDoc())
    for (const name of Object.keys(settings)) assert.match(read('docs/config.md'), new RegExp(`\`${name}\``), name)
  })

  it('the confusables table is the rendering of the packaged UTS #39 data (run `npm run confusables` after a change)', () => {
    assert.equal(read('src/core/accounts/confusables-table.ts'), renderConfusablesTable())
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
