/** Renders docs/config.md from the settings schema: `npm run docs` writes it, a test compares it. */
import { writeFileSync } from 'node:fs'
import { settings, type SettingDefinition } from '../src/config/schema.ts'

export function renderConfigDoc(): string {
  const lines = [
    '# Configuration',
    '',
    'Tessera reads its settings from the environment, and optionally from a JSON file named by',
    '`TESSERA_CONFIG_FILE` whose keys are the same names (the environment wins). Every setting is',
    'validated at start; an invalid one stops the server with a message that names it, and every',
    'problem is listed at once. An empty value means "not set". Durations take `ms`, `s`, `m`, `h`',
    'or `d` (`90` alone means seconds).',
    '',
    '| setting | type | default | meaning |',
    '|---|---|---|---|',
  ]
  for (const [name, definition] of Object.entries(settings) as Array<[string, SettingDefinition]>) {
    const bounds = [
      definition.min === undefined ? '' : `min ${definition.min}`,
      definition.max === undefined ? '' : `max ${definition.max}`,
      definition.oneOf ? definition.oneOf.join(' / ') : '',
    ].filter((part) => part !== '')
    const type = bounds.length > 0 ? `${definition.type} (${bounds.join(', ')})` : definition.type
    const fallback =
      definition.default === undefined ? '—' : definition.default === '' ? '(empty)' : `\`${definition.default}\``
    lines.push(`| \`${name}\` | ${type} | ${fallback} | ${definition.description} |`)
  }
  return `${lines.join('\n')}\n`
}

if (import.meta.main) {
  writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigDoc())
}
