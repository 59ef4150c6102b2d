/**
 * The confusable skeleton of a username (UTS #39 section 4): two names that look alike have the
 * same skeleton, and Tessera keeps skeletons unique, so `rnodern` cannot sit beside `modern`,
 * `paypa1` beside `paypal`, nor `r00t` beside `root`. A skeleton is only ever compared, never
 * shown: it is a hodgepodge of scripts by design.
 *
 * skeleton(key) = lower(NFD(map(NFD(key) without default-ignorables))): the standard algorithm
 * on the case-folded key, lower-cased once more because the prototypes are partly upper case
 * (`0` and `O` both map to `O`) while keys are compared without case.
 */
import { confusablePrototypes } from './confusables-table.ts'

const defaultIgnorable = /\p{Default_Ignorable_Code_Point}/u

export function computeUsernameSkeleton(usernameKey: string): string {
  let mapped = ''
  for (const character of usernameKey.normalize('NFD')) {
    if (defaultIgnorable.test(character)) continue
    mapped += confusablePrototypes.get(character) ?? character
  }
  return mapped.normalize('NFD').toLowerCase()
}
