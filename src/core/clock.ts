/** The only source of time in the core, so timeouts can be tested without sleeping. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = {
  now: () => new Date(),
}
