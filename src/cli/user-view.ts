/**
 * How the CLI shows an account. Fields are copied one by one, so the password hash can never
 * reach the output, whatever the record gains later.
 */
import type { UserRecord } from '../core/application/types.ts'
import { formatTable } from './format.ts'

export interface UserView {
  id: string
  username: string
  roles: string[]
  isDisabled: boolean
  createdAt: string
  updatedAt: string
}

export function describeUser(user: UserRecord): UserView {
  return {
    id: user.id,
    username: user.username,
    roles: [...user.roles],
    isDisabled: user.disabledAt !== null,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  }
}

export function formatUserTable(users: readonly UserView[]): string {
  const rows = [['USERNAME', 'ROLES', 'STATUS', 'CREATED', 'ID']]
  for (const user of users) {
    rows.push([user.username, user.roles.join(','), user.isDisabled ? 'disabled' : 'active', user.createdAt, user.id])
  }
  return `${formatTable(rows)}\n`
}
