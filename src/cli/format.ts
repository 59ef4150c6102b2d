/** Plain-text and JSON output shared by the commands. */

function countCodePoints(text: string): number {
  return [...text].length
}

/** Lays out rows in columns padded to the widest cell, two spaces apart. */
export function formatTable(rows: readonly string[][]): string {
  const widths: number[] = []
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, countCodePoints(cell))
    })
  }
  const padCell = (cell: string, index: number): string =>
    cell + ' '.repeat((widths[index] ?? 0) - countCodePoints(cell))
  return rows
    .map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : padCell(cell, index))))
    .map((cells) => cells.join('  '))
    .join('\n')
}

function toSnakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
}

/**
 * Indented JSON with a final newline, the `--json` output of every command. Keys are written in
 * snake_case, as the HTTP API writes them, so a script reads the same names from both.
 */
export function formatJson(value: unknown): string {
  const text = JSON.stringify(
    value,
    (_key, inner: unknown) =>
      inner !== null && typeof inner === 'object' && !Array.isArray(inner)
        ? Object.fromEntries(Object.entries(inner).map(([name, item]) => [toSnakeCase(name), item]))
        : inner,
    2,
  )
  return `${text}\n`
}
