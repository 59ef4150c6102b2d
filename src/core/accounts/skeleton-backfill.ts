/**
 * Gives accounts made before skeletons existed their confusable skeleton. Run at every start
 * (cheap when there is nothing to do: one indexed read). Two old accounts whose names look alike
 * cannot both hold their skeleton: the older one keeps it, the other is left without one and is
 * reported, never changed or deleted; a new name that looks like either is still refused, since
 * the skeleton they share is taken. Idempotent and safe beside other nodes doing the same.
 */
import type { AccountStore, UserRecord } from './store.ts'
import { computeUsernameSkeleton } from './username-skeleton.ts'

const pageSize = 500

export interface SkeletonBackfill {
  filled: number
  /** Accounts left without a skeleton because another one holds it. */
  collisions: UserRecord[]
}

export async function fillMissingUsernameSkeletons(store: AccountStore): Promise<SkeletonBackfill> {
  const report: SkeletonBackfill = { filled: 0, collisions: [] }
  const pending: UserRecord[] = []
  let afterId: string | null = null
  for (;;) {
    const page = await store.listUsersWithoutSkeleton({ afterId, limit: pageSize })
    pending.push(...page)
    const last = page.at(-1)
    if (!last || page.length < pageSize) break
    afterId = last.id
  }
  // Oldest first, so the account that had the name first keeps the skeleton.
  pending.sort((left, right) => left.createdAt.getTime() - right.createdAt.getTime() || left.id.localeCompare(right.id))
  for (const user of pending) {
    if (await store.setUsernameSkeleton(user.id, computeUsernameSkeleton(user.usernameKey))) report.filled += 1
    else if ((await store.findUserById(user.id))?.usernameSkeleton == null) report.collisions.push(user)
  }
  return report
}
