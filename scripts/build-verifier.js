#!/usr/bin/env node
// `npm run build`: compiles src/verifier to packages/verifier/dist (JavaScript and declarations,
// see tsconfig.verifier.json), the files of the `tessera-verifier` package. npm runs it as that
// package's `prepack`, so `npm pack` and `npm publish` in packages/verifier always ship a build of
// the current sources. The server itself runs its TypeScript sources and needs no build. Plain
// JavaScript, like bin/tessera.js, for whichever `node` npm finds.
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

let tscPath
try {
  tscPath = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  // A package without its build would install and then fail at the first import: refuse instead.
  process.stderr.write('build: TypeScript is not installed; run `npm ci` in the repository first\n')
  process.exit(1)
}
const root = fileURLToPath(new URL('..', import.meta.url))
// A file removed from src/verifier must not linger in the package.
rmSync(new URL('../packages/verifier/dist', import.meta.url), { recursive: true, force: true })
const result = spawnSync(process.execPath, [tscPath, '-p', 'tsconfig.verifier.json'], { cwd: root, stdio: 'inherit' })
process.exit(result.status ?? 1)
