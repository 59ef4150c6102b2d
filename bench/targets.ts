/**
 * The targets from the issue, for the 2-core reference machine, and how each measured scenario
 * is judged against them. Throughput is compared with what the hardware allows (a bare Fastify
 * server's `/hello` measured in the same run, interleaved, or the argon2id-bound login rate), so
 * the targets travel across machines; the ratio to Tessera's own `/healthz` is kept beside it.
 */
import type { Argon2Timing } from './argon2-timing.ts'
import type { LoadSummary } from './load.ts'

export type ScenarioId =
  'floor' | 'healthz' | 'bearer' | 'cookie' | 'login' | 'bearer_under_flood' | 'login_flood' | 'refresh'

export interface Scenario {
  id: ScenarioId
  label: string
  load: LoadSummary
}

export type Verdict = 'PASS' | 'MISS' | 'INFO'

export interface ScenarioOutcome {
  id: ScenarioId
  label: string
  load: LoadSummary
  /** What `ratio` is relative to: the floor's req/s, the hash-bound login rate, or null. */
  ratioBasis: 'floor' | 'hash_limit' | null
  ratio: number | null
  /** req/s over Tessera's own /healthz (the figure the benchmark reported before it had a floor). */
  healthzRatio: number | null
  target: string
  verdict: Verdict
}

export const targets = {
  healthzMinFloorRatio: 0.9,
  bearerMinFloorRatio: 0.8,
  cookieMinFloorRatio: 0.75,
  loginMinHashLimitRatio: 0.8,
  bearerUnderFloodMinFloorRatio: 0.4,
  bearerUnderFloodMaxP99OverIdle: 3,
  loginFloodMinHashLimitRatio: 0.7,
  refreshMinPerSecond: 3000,
} as const

function judge(isMet: boolean): Verdict {
  return isMet ? 'PASS' : 'MISS'
}

export function evaluateScenarios(scenarios: readonly Scenario[], argon2: Argon2Timing): ScenarioOutcome[] {
  const rateOf = (id: ScenarioId) => scenarios.find((scenario) => scenario.id === id)?.load.requestsPerSecond ?? 0
  const floorRate = rateOf('floor')
  const healthzRate = rateOf('healthz')
  const idleBearerP99 = scenarios.find((scenario) => scenario.id === 'bearer')?.load.latencyP99Ms ?? 0
  const toFloor = (load: LoadSummary) => (floorRate > 0 ? load.requestsPerSecond / floorRate : 0)
  const toHashLimit = (load: LoadSummary) => load.requestsPerSecond / argon2.hashBoundLoginsPerSecond
  const floorJudged = (
    outcome: Omit<ScenarioOutcome, 'ratioBasis' | 'ratio' | 'target' | 'verdict'>,
    minimum: number,
  ): ScenarioOutcome => {
    const ratio = toFloor(outcome.load)
    return {
      ...outcome,
      ratioBasis: 'floor',
      ratio,
      target: `>= ${minimum.toFixed(2)}x floor`,
      verdict: judge(ratio >= minimum),
    }
  }

  return scenarios.map(({ id, label, load }): ScenarioOutcome => {
    const healthzRatio =
      healthzRate > 0 && id !== 'login' && id !== 'login_flood' ? load.requestsPerSecond / healthzRate : null
    const outcome = { id, label, load, healthzRatio }
    switch (id) {
      case 'floor':
        return { ...outcome, ratioBasis: 'floor', ratio: 1, target: 'reference', verdict: 'INFO' }
      case 'healthz':
        return floorJudged(outcome, targets.healthzMinFloorRatio)
      case 'bearer':
        return floorJudged(outcome, targets.bearerMinFloorRatio)
      case 'cookie':
        return floorJudged(outcome, targets.cookieMinFloorRatio)
      case 'login': {
        const ratio = toHashLimit(load)
        const target = `>= ${targets.loginMinHashLimitRatio.toFixed(2)}x hash limit`
        return {
          ...outcome,
          ratioBasis: 'hash_limit',
          ratio,
          target,
          verdict: judge(ratio >= targets.loginMinHashLimitRatio),
        }
      }
      case 'bearer_under_flood': {
        const ratio = toFloor(load)
        const p99Limit = idleBearerP99 * targets.bearerUnderFloodMaxP99OverIdle
        const target = `>= ${targets.bearerUnderFloodMinFloorRatio.toFixed(2)}x floor, p99 <= ${p99Limit.toFixed(2)} ms (3x idle)`
        const isMet = ratio >= targets.bearerUnderFloodMinFloorRatio && load.latencyP99Ms <= p99Limit
        return { ...outcome, ratioBasis: 'floor', ratio, target, verdict: judge(isMet) }
      }
      case 'login_flood': {
        const ratio = toHashLimit(load)
        const target = `>= ${targets.loginFloodMinHashLimitRatio.toFixed(2)}x hash limit`
        return {
          ...outcome,
          ratioBasis: 'hash_limit',
          ratio,
          target,
          verdict: judge(ratio >= targets.loginFloodMinHashLimitRatio),
        }
      }
      case 'refresh': {
        const target = `>= ${targets.refreshMinPerSecond}/s`
        return {
          ...outcome,
          ratioBasis: 'floor',
          ratio: toFloor(load),
          target,
          verdict: judge(load.requestsPerSecond >= targets.refreshMinPerSecond),
        }
      }
    }
  })
}
