/**
 * Why an operator's operation ended every session of a user. Carried by the operation's audit
 * event (`details.session_end_reason`) and by whatever tells listeners a session ended: a game
 * server can tell a kicked player from a deleted account. A reason is a contract, like an event
 * type: never rename one; add new ones at the end.
 */
export const sessionEndReasons = ['kick', 'disabled', 'deleted', 'password_set'] as const

export type SessionEndReason = (typeof sessionEndReasons)[number]
