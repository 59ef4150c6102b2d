/**
 * The username an attempt named, as the audit trail keeps it. What people type into the username
 * field of a failed sign-in is often not a username at all but a password (typed one field too
 * early), or an attacker's text meant to end up in a chat message. So:
 *
 * - a name that is an account's is kept as that account's normalised key, readable by admins;
 *   every spelling of one account (`Alice`, `ＡＬＩＣＥ`) groups together for the review;
 * - anything else is kept only as a keyed digest, `~` and 16 base64url characters: HMAC-SHA-256
 *   under a key derived from `master.key`, of the normalised key (or of the text as sent when it
 *   is no valid name). The same mistyped name gives the same digest on every node, so the review
 *   still counts failures per name and per address; nobody reading the trail, an export, an
 *   alert or a webhook body can read the text back, and without the master key nobody can test
 *   guesses against it either.
 *
 * Usernames never contain `~`, so a digest cannot be mistaken for an account's name.
 */
import { createHmac, createSecretKey } from 'node:crypto'
import type { AccountStore } from '../accounts/store.ts'
import { normalizeUsername } from '../accounts/username.ts'

/**
 * Where a name is looked up: the account store, or, for the events of a unit of work, the store
 * bound to its transaction (any other would wait for that very transaction to end).
 */
export type AccountNameLookup = Pick<AccountStore, 'findUserByUsernameKey'>

export interface AttemptedUsernames {
  /** How the trail keeps `input`, looking up in `accounts` (the account store by default) whether it names an account. */
  describeAttempt(input: string, accounts?: AccountNameLookup): Promise<string>
  /** The same when the caller knows: `isAccountName` true when the event is about that account. */
  describeKnown(input: string, isAccountName: boolean): string
}

const digestLength = 16

export function createAttemptedUsernames(deps: {
  /** Derived from the master key; the same on every node of a deployment. */
  secret: Uint8Array
  /** The account store, where a name is looked up unless the caller names another. */
  accounts: AccountNameLookup
}): AttemptedUsernames {
  // Imported once: keying each HMAC with the raw bytes would import them again every time.
  const secret = createSecretKey(deps.secret)

  function digest(text: string): string {
    return `~${createHmac('sha256', secret).update(text, 'utf8').digest('base64url').slice(0, digestLength)}`
  }

  function describeKnown(input: string, isAccountName: boolean): string {
    const name = normalizeUsername(input)
    if (name && isAccountName) return name.key
    return digest(name ? name.key : input.toWellFormed())
  }

  return {
    async describeAttempt(input, accounts = deps.accounts) {
      const name = normalizeUsername(input)
      return describeKnown(input, name !== null && (await accounts.findUserByUsernameKey(name.key)) !== null)
    },
    describeKnown,
  }
}
