import { describe } from 'node:test'
import { createLocalInvalidationBus } from '../../src/core/invalidation/bus.ts'
import { testInvalidationBus } from '../../src/storage/contract/invalidation-bus.ts'

describe('in-process invalidation bus', () => {
  testInvalidationBus(async () => {
    // The nodes of one process share one bus.
    const bus = createLocalInvalidationBus()
    return { open: async () => ({ ...bus, close: async () => {} }), close: async () => {} }
  })
})
