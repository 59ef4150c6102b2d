/**
 * The list of common passwords new passwords are checked against: the 49,233 most frequent ones
 * of Mark Burnett's ten-million-password corpus (released by him into the public domain), in rank
 * order and lower case, as shipped by `@zxcvbn-ts/language-common` (MIT licence). It is offline:
 * nothing is fetched at run time.
 */

/** Loads the list once per call site; about 50,000 entries, a few MiB in memory. */
export async function loadCommonPasswords(): Promise<ReadonlySet<string>> {
  const { dictionary } = await import('@zxcvbn-ts/language-common')
  return new Set(dictionary['passwords-common'])
}
