import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createCronSchedule } from './cron-schedule.ts'
import { createScheduler, type ScheduledJob } from './scheduler.ts'

function setUp(start: string) {
  const clock = createManualClock(new Date(start))
  const stores = openSqliteStores(':memory:', clock.now())
  const ran: string[] = []
  const job = (name: string, pattern: string, run?: () => Promise<void>): ScheduledJob => ({
    name,
    schedule: createCronSchedule(pattern, 'UTC'),
    async run(occurrenceAt) {
      ran.push(`${name}@${occurrenceAt.toISOString().slice(11, 19)}`)
      await run?.()
    },
  })
  const schedulerFor = (nodeId: string, jobs: ScheduledJob[]) =>
    createScheduler({ store: stores.schedulerLocks, clock, nodeId, jobs, leaseSeconds: 600, maxLatenessSeconds: 3600 })
  return { clock, stores, ran, job, schedulerFor }
}

describe('scheduler', () => {
  it('createCronSchedule() finds the occurrence at or before an instant and the next one after', () => {
    const schedule = createCronSchedule('*/5 * * * *', 'UTC')
    assert.equal(
      schedule.previousOccurrence(new Date('2030-01-01T00:10:00.000Z'))?.toISOString(),
      '2030-01-01T00:10:00.000Z',
    )
    assert.equal(
      schedule.previousOccurrence(new Date('2030-01-01T00:09:59.999Z'))?.toISOString(),
      '2030-01-01T00:05:00.000Z',
    )
    assert.equal(
      schedule.nextOccurrence(new Date('2030-01-01T00:10:00.000Z'))?.toISOString(),
      '2030-01-01T00:15:00.000Z',
    )
    const nightly = createCronSchedule('0 23 * * *', 'Asia/Seoul')
    assert.equal(
      nightly.nextOccurrence(new Date('2030-01-01T00:00:00.000Z'))?.toISOString(),
      '2030-01-01T14:00:00.000Z',
    )
    assert.throws(() => createCronSchedule('every night', null), TypeError)
    assert.throws(() => createCronSchedule('61 * * * *', null), TypeError)
  })

  it('runs each due occurrence once, across two nodes sharing the lease store', async (t) => {
    const { clock, stores, ran, job, schedulerFor } = setUp('2030-01-01T00:04:00.000Z')
    t.after(() => stores.close())
    const jobs = [job('review', '*/5 * * * *')]
    const nodeA = schedulerFor('node-a', jobs)
    const nodeB = schedulerFor('node-b', jobs)
    clock.set(new Date('2030-01-01T00:05:00.000Z'))
    assert.deepEqual(
      (await nodeA.runDueJobs()).map((run) => run.job),
      ['review'],
    )
    assert.deepEqual(await nodeB.runDueJobs(), [])
    assert.deepEqual(await nodeA.runDueJobs(), [])
    clock.set(new Date('2030-01-01T00:10:30.000Z'))
    assert.deepEqual(
      (await nodeB.runDueJobs()).map((run) => run.job),
      ['review'],
    )
    assert.deepEqual(ran, ['review@00:05:00', 'review@00:10:00'])
    assert.equal(nodeA.nextRunAt()?.toISOString(), '2030-01-01T00:15:00.000Z')
  })

  it('skips an occurrence missed by more than an hour, and reports a failing job without retrying it at once', async (t) => {
    const { clock, stores, ran, job, schedulerFor } = setUp('2030-01-01T00:30:00.000Z')
    t.after(() => stores.close())
    const failing = job('report', '0 0 * * *', async () => {
      throw new Error('report failed')
    })
    const scheduler = schedulerFor('node-a', [failing])
    clock.set(new Date('2030-01-01T01:00:01.000Z'))
    assert.deepEqual(await scheduler.runDueJobs(), [])
    clock.set(new Date('2030-01-02T00:00:00.000Z'))
    const [run] = await scheduler.runDueJobs()
    assert.match(String(run?.error), /report failed/)
    assert.deepEqual(await scheduler.runDueJobs(), [])
    assert.deepEqual(ran, ['report@00:00:00'])
  })

  it('refuses two jobs with one name', (t) => {
    const { stores, job, schedulerFor } = setUp('2030-01-01T00:00:00.000Z')
    t.after(() => stores.close())
    assert.throws(() => schedulerFor('node-a', [job('review', '* * * * *'), job('review', '*/5 * * * *')]), TypeError)
  })
})
