/**
 * The targets from the issue, for the 2-core reference machine, and how each measured scenario
 * is judged against them. Throughput is compared with what the hardware allows (the /healthz
 * floor, or the argon2id-bound login rate), so the targets travel across machines.
 */
import type { Argon2Timing } from './argon2-timing.ts'
import type { LoadSummary } from './load.ts'

export type ScenarioId =
  | 'floor'
  | 'bearer'
  | 'cookie'
  | 'login'
  | 'bearer_paced'
  | 'bearer_under_flood'
  | 'login_flood'

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
  target: string
  verdict: Verdict
}

export const targets = {
  bearerMinFloorRatio: 0.8,
  cookieMinFloorRatio: 0.6,
  loginMinHashLimitRatio: 0.8,
  bearerUnderFloodMaxP99Ms: 25,
} as const

function judge(isMet: boolean): Verdict {
  return isMet ? 'PASS' : 'MISS'
}

export function evaluateScenarios(scenarios: readonly Scenario[], argon2: Argon2Timing): ScenarioOutcome[] {
  const floor = scenarios.find((scenario) => scenario.id === 'floor')
  const floorRate = floor?.load.requestsPerSecond ?? 0
  const toFloor = (load: LoadSummary) => (floorRate > 0 ? load.requestsPerSecond / floorRate : 0)
  const toHashLimit = (load: LoadSummary) => load.requestsPerSecond / argon2.hashBoundLoginsPerSecond

  return scenarios.map(({ id, label, load }): ScenarioOutcome => {
    const outcome = { id, label, load }
    switch (id) {
      case 'floor':
        return { ...outcome, ratioBasis: 'floor', ratio: 1, target: 'reference', verdict: 'INFO' }
      case 'bearer': {
        const ratio = toFloor(load)
        const target = `>= ${targets.bearerMinFloorRatio.toFixed(2)}x floor`
        return { ...outcome, ratioBasis: 'floor', ratio, target, verdict: judge(ratio >= targets.bearerMinFloorRatio) }
      }
      case 'cookie': {
        const ratio = toFloor(load)
        const target = `>= ${targets.cookieMinFloorRatio.toFixed(2)}x floor`
        return { ...outcome, ratioBasis: 'floor', ratio, target, verdict: judge(ratio >= targets.cookieMinFloorRatio) }
      }
      case 'login': {
        const ratio = toHashLimit(load)
        const target = `>= ${targets.loginMinHashLimitRatio.toFixed(2)}x hash limit`
        return { ...outcome, ratioBasis: 'hash_limit', ratio, target, verdict: judge(ratio >= targets.loginMinHashLimitRatio) }
      }
      case 'bearer_paced':
        return { ...outcome, ratioBasis: null, ratio: null, target: 'reference for the flood', verdict: 'INFO' }
      case 'bearer_under_flood': {
        const target = `p99 <= ${targets.bearerUnderFloodMaxP99Ms} ms`
        const isMet = load.latencyP99Ms <= targets.bearerUnderFloodMaxP99Ms
        return { ...outcome, ratioBasis: null, ratio: null, target, verdict: judge(isMet) }
      }
      case 'login_flood':
        return { ...outcome, ratioBasis: 'hash_limit', ratio: toHashLimit(load), target: 'load beside the row above', verdict: 'INFO' }
    }
  })
}
