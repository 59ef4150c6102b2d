import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { english } from './en.ts'
import { korean } from './ko.ts'
import { chooseFromAcceptLanguage, createTranslator } from './languages.ts'

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort()

describe('the page catalogues', () => {
  it('have exactly the same keys in English and Korean, each translated', () => {
    assert.deepEqual(Object.keys(korean).sort(), Object.keys(english).sort())
    for (const [key, text] of Object.entries(korean)) assert.ok(text.trim() !== '', `${key} is empty in Korean`)
  })

  it('use the same placeholders in both languages', () => {
    for (const key of Object.keys(english) as Array<keyof typeof english>) {
      assert.deepEqual(placeholders(korean[key]), placeholders(english[key]), key)
    }
  })

  it('have no key that no page uses', () => {
    const webDir = new URL('..', import.meta.url)
    const sources = readdirSync(webDir, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.startsWith('i18n'))
      .map((name) => readFileSync(new URL(name, webDir), 'utf8'))
      .join('\n')
    // Keys built from a value (`keys.state.${state}`, `error.password_blocklisted.${reason}`) count by their stem.
    const unused = Object.keys(english).filter(
      (key) => !sources.includes(`'${key}'`) && !sources.includes(`\`${key.replace(/\.[^.]+$/, '.')}\${`),
    )
    assert.deepEqual(unused, [])
  })
})

describe('createTranslator()', () => {
  it('fills placeholders and leaves unknown ones as they are', () => {
    const t = createTranslator('ko')
    assert.equal(t('sessions.endedOthers', { count: 3 }), '다른 세션 3개가 끝났습니다.')
    assert.equal(createTranslator('en')('signIn.heading', {}), 'Sign in to {product}')
  })
})

describe('chooseFromAcceptLanguage()', () => {
  it('picks the best supported language by quality, then order, and English otherwise', () => {
    assert.equal(chooseFromAcceptLanguage('ko-KR,ko;q=0.9,en-US;q=0.8'), 'ko')
    assert.equal(chooseFromAcceptLanguage('fr-FR,ko;q=0.5,en;q=0.7'), 'en')
    assert.equal(chooseFromAcceptLanguage('en;q=0.1, ko;q=0.2'), 'ko')
    assert.equal(chooseFromAcceptLanguage('ko;q=0, en'), 'en')
    assert.equal(chooseFromAcceptLanguage('de, fr'), 'en')
    assert.equal(chooseFromAcceptLanguage(undefined), 'en')
    assert.equal(chooseFromAcceptLanguage('*'), 'en')
  })
})
