#!/usr/bin/env node
// `npm run build`: compiles src/verifier to dist/verifier (JavaScript and declarations, see
// tsconfig.verifier.json), the files `tessera/verifier` resolves to outside this repository.
// npm runs it as `prepare`: before `npm pack` and `npm publish`, when Tessera is installed as a git
// or directory dependency, and on every install in this directory, including a server install
// with `--omit=dev`. That one has no TypeScript and needs no build (the repository runs its own
// sources), so the build is skipped there rather than failing the install. Plain JavaScript, like
// bin/tessera.js, for whichever `node` npm finds.
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

let tscPath
try {
  tscPath = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  process.stdout.write('build: TypeScript is not installed (no dev dependencies), dist/verifier not built\n')
  process.exit(0)
}
const root = fileURLToPath(new URL('..', import.meta.url))
// A file removed from src/verifier must not linger in the package.
rmSync(new URL('../dist/verifier', import.meta.url), { recursive: true, force: true })
const result = spawnSync(process.execPath, [tscPath, '-p', 'tsconfig.verifier.json'], { cwd: root, stdio: 'inherit' })
process.exit(result.status ?? 1)
