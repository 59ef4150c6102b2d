/** The part of autocannon 8's programmatic API the benchmarks use (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface AutocannonOptions {
    url: string
    method?: 'GET' | 'POST'
    headers?: Record<string, string>
    body?: string
    connections?: number
    /** Seconds. */
    duration?: number
    /** Requests per second across all connections; each connection gets an equal share. */
    overallRate?: number
    ignoreCoordinatedOmission?: boolean
    /** Seconds before a request counts as timed out. */
    timeout?: number
    warmup?: { connections?: number; duration?: number }
    /** Requests sent in turn on each connection; `setupRequest` may rewrite one before it leaves. */
    requests?: AutocannonRequest[]
    /** Stop after this many requests (instead of after `duration`). */
    amount?: number
  }

  export interface AutocannonRequest {
    method?: 'GET' | 'POST'
    path?: string
    headers?: Record<string, string>
    body?: string
    setupRequest?(request: AutocannonRequest): AutocannonRequest
    onResponse?(status: number, body: string): void
  }

  export interface AutocannonHistogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
  }

  export interface AutocannonResult {
    duration: number
    errors: number
    timeouts: number
    resets: number
    non2xx: number
    '2xx': number
    statusCodeStats: Record<string, { count: number }>
    /** Milliseconds, 1 ms resolution. */
    latency: AutocannonHistogram
    /** Completed requests per one-second sample. */
    requests: AutocannonHistogram & { sent: number }
    throughput: AutocannonHistogram
  }

  export interface AutocannonInstance extends EventEmitter, PromiseLike<AutocannonResult> {
    /** Emitted when the measured run (not the warm-up) begins. */
    on(event: 'start', listener: () => void): this
    /** Emitted for every response of the measured run (not the warm-up). */
    on(
      event: 'response',
      listener: (client: unknown, statusCode: number, responseBytes: number, responseTimeMs: number) => void,
    ): this
    stop(): void
  }

  export default function autocannon(options: AutocannonOptions): AutocannonInstance
}
