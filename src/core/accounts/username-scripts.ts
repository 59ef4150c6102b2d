/**
 * Which mixtures of scripts a new username may use: UTS #39 "highly restrictive" (section 5.2),
 * over the scripts UAX #31 recommends for identifiers (Table 7). A name is written in one
 * script, or in Latin together with the Han-based writing of one language: Japanese (Han,
 * Hiragana, Katakana), Chinese (Han, Bopomofo) or Korean (Han, Hangul). Characters common to all
 * scripts (digits, `.`, `_`, `-`) and inherited ones (combining marks) go with any.
 *
 * So `rtadmin` in Latin, `김민준`, `kim민준`, `田中たろう` and `yamada太郎` are names, and `rtаdmin` (with a
 * Cyrillic а) or `pаypal` are not: Latin with Cyrillic or Greek is the classic look-alike.
 * Scripts outside the recommended set (historic or limited-use ones, such as Cherokee, whose
 * letters imitate Latin) are refused too.
 */

/** UAX #31 Table 7, Recommended Scripts (ISO 15924 codes), less Common and Inherited. */
export const recommendedScripts = [
  'Arab',
  'Armn',
  'Beng',
  'Bopo',
  'Cyrl',
  'Deva',
  'Ethi',
  'Geor',
  'Grek',
  'Gujr',
  'Guru',
  'Hang',
  'Hani',
  'Hebr',
  'Hira',
  'Kana',
  'Khmr',
  'Knda',
  'Laoo',
  'Latn',
  'Mlym',
  'Mymr',
  'Orya',
  'Sinh',
  'Taml',
  'Telu',
  'Thaa',
  'Thai',
  'Tibt',
] as const

type Script = (typeof recommendedScripts)[number]

const hanBased: ReadonlyArray<readonly Script[]> = [
  ['Hani', 'Hira', 'Kana'],
  ['Hani', 'Bopo'],
  ['Hani', 'Hang'],
]

/** A pattern that matches names whose every character belongs to one of `scripts` (or to all). */
function coveredBy(scripts: readonly Script[]): RegExp {
  const classes = [...scripts, 'Zyyy', 'Zinh'].map((script) => `\\p{scx=${script}}`).join('')
  return new RegExp(`^[${classes}]*$`, 'u')
}

// Made on the first new username, not at start: compiling the Unicode property classes costs
// milliseconds that most starts never need.
let allowedMixtures: readonly RegExp[] | null = null

/** True when the name keeps to one script, or to Latin with Japanese, Chinese or Korean writing. */
export function isHighlyRestrictive(name: string): boolean {
  allowedMixtures ??= [
    ...recommendedScripts.filter((script) => !hanBased.flat().includes(script)).map((script) => coveredBy([script])),
    ...hanBased.map((scripts) => coveredBy(['Latn', ...scripts])),
  ]
  return allowedMixtures.some((pattern) => pattern.test(name))
}
