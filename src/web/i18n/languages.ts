/**
 * The pages' languages: which one a request gets (the `lang` query parameter, then the language
 * cookie the switcher sets, then `Accept-Language`), and the translator of a language.
 */
import { english, type MessageKey } from './en.ts'
import { korean } from './ko.ts'

export const languages = ['en', 'ko'] as const
export type Language = (typeof languages)[number]

export const catalogues: Readonly<Record<Language, Readonly<Record<MessageKey, string>>>> = { en: english, ko: korean }

export type Translate = (key: MessageKey, values?: Readonly<Record<string, string | number>>) => string

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (languages as readonly string[]).includes(value)
}

export function createTranslator(language: Language): Translate {
  const catalogue = catalogues[language]
  return (key, values = {}) =>
    catalogue[key].replace(/\{(\w+)\}/g, (placeholder, name: string) =>
      Object.hasOwn(values, name) ? String(values[name]) : placeholder,
    )
}

/**
 * The best of our languages for an `Accept-Language` header (RFC 9110 §12.5.4): highest
 * q-value first, then the order given; English when nothing matches.
 */
export function chooseFromAcceptLanguage(header: string | undefined): Language {
  if (!header) return 'en'
  const ranges = header
    .slice(0, 512)
    .split(',')
    .map((part, index) => {
      const [range = '', ...parameters] = part.trim().split(';')
      const quality = parameters
        .map((parameter) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/i.exec(parameter)?.[1])
        .find(Boolean)
      return { range: range.trim().toLowerCase(), quality: quality === undefined ? 1 : Number(quality), index }
    })
    .filter((entry) => entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
  for (const { range } of ranges) {
    const primary = range.split('-')[0]
    if (isLanguage(primary)) return primary
  }
  return 'en'
}
