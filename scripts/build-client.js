#!/usr/bin/env node
// Part of `npm run build`: compiles src/client to dist/client (JavaScript and declarations, see
// tsconfig.client.json), the files `tessera/client` resolves to outside this repository. Skipped,
// like the verifier's build, where TypeScript is not installed (a server install with --omit=dev).
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

let tscPath
try {
  tscPath = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  process.stdout.write('build: TypeScript is not installed (no dev dependencies), dist/client not built\n')
  process.exit(0)
}
const root = fileURLToPath(new URL('..', import.meta.url))
// A file removed from src/client must not linger in the package.
rmSync(new URL('../dist/client', import.meta.url), { recursive: true, force: true })
const result = spawnSync(process.execPath, [tscPath, '-p', 'tsconfig.client.json'], { cwd: root, stdio: 'inherit' })
process.exit(result.status ?? 1)
