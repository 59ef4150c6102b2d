import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig } from './load.ts'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

describe('token lifecycle settings', () => {
  it('reads the refresh grace, key activation delay and key reload interval as durations', () => {
    const config = loadConfig({
      TESSERA_REFRESH_GRACE: '2s',
      TESSERA_KEY_ACTIVATION_DELAY: '1h',
      TESSERA_KEY_RELOAD_INTERVAL: '30s',
    })
    assert.equal(config.tokens.refreshGraceSeconds, 2)
    assert.equal(config.tokens.keyActivationDelaySeconds, 3600)
    assert.equal(config.tokens.keyReloadIntervalSeconds, 30)
  })

  it('defaults to a 5 s grace and a 10 min activation delay, longer than the JWKS max-age of 300 s', () => {
    const config = loadConfig({})
    assert.equal(config.tokens.refreshGraceSeconds, 5)
    assert.ok(config.tokens.keyActivationDelaySeconds > 300 + config.tokens.keyReloadIntervalSeconds)
  })

  it('accepts a zero grace window and a zero activation delay', () => {
    const config = loadConfig({ TESSERA_REFRESH_GRACE: '0', TESSERA_KEY_ACTIVATION_DELAY: '0s' })
    assert.equal(config.tokens.refreshGraceSeconds, 0)
    assert.equal(config.tokens.keyActivationDelaySeconds, 0)
  })

  it('refuses a grace window over 30 s, a reload interval of 0 or over 60 s, and unreadable durations', () => {
    const names = (env: Record<string, string>) => problemsOf(env).map((problem) => problem.split(':')[0])
    assert.deepEqual(names({ TESSERA_REFRESH_GRACE: '31s' }), ['TESSERA_REFRESH_GRACE'])
    assert.deepEqual(names({ TESSERA_KEY_RELOAD_INTERVAL: '0s' }), ['TESSERA_KEY_RELOAD_INTERVAL'])
    assert.deepEqual(names({ TESSERA_KEY_RELOAD_INTERVAL: '61s' }), ['TESSERA_KEY_RELOAD_INTERVAL'])
    assert.deepEqual(names({ TESSERA_KEY_ACTIVATION_DELAY: '8d' }), ['TESSERA_KEY_ACTIVATION_DELAY'])
    assert.deepEqual(names({ TESSERA_KEY_ACTIVATION_DELAY: 'soon' }), ['TESSERA_KEY_ACTIVATION_DELAY'])
  })
})
