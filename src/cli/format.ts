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

/** Indented JSON with a final newline, the `--json` output of every command. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
