#!/usr/bin/env node
// The `tessera` command. Tessera's sources are TypeScript run by Node >= 24 type stripping, and
// the `node` that starts this file may be an older system one, so the CLI is re-run with the
// Node binary the package depends on. This file stays plain JavaScript for the same reason.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { allocatorSettings } from './allocator-settings.js'

const minimumNode = [24, 7]
const cliPath = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))

function isRecentEnough(version) {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > minimumNode[0] || (major === minimumNode[0] && minor >= minimumNode[1])
}

function findNodeBinary() {
  try {
    return createRequire(import.meta.url).resolve('node/bin/node')
  } catch {
    // No `node` package next to this one: this node will do if it is recent enough.
    return isRecentEnough(process.versions.node) ? process.execPath : null
  }
}

// The server runs its TypeScript sources, which Node does not strip inside node_modules: a copy
// installed as a dependency cannot run, so say where the server runs and what to install instead.
if (!existsSync(cliPath) || cliPath.split(sep).includes('node_modules')) {
  process.stderr.write(
    'tessera: the server and this command run from a checkout of Tessera (git clone, npm install), see its README; resource servers install the tessera-verifier package\n',
  )
  process.exit(1)
}

const nodeBinary = findNodeBinary()
if (nodeBinary === null) {
  process.stderr.write(`tessera: needs Node.js >= ${minimumNode.join('.')} (this is ${process.version})\n`)
  process.exit(1)
}

// Node keeps the compiled (and type-stripped) modules here, which shortens every start after the first.
const compileCache =
  process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../node_modules/.cache/node-compile', import.meta.url))
// How glibc's allocator should treat argon2id's 19 MiB buffers (see allocator-settings.js).
const mallocSettings = allocatorSettings(process.env)
const child = spawn(nodeBinary, [cliPath, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ...mallocSettings, NODE_COMPILE_CACHE: compileCache },
})

// SIGINT from a terminal already reaches the child (same process group); forwarding it too would
// make the server see a second signal and skip its clean shutdown. Ignore it here and let the
// child decide when to exit. SIGTERM and SIGHUP come from process managers and target this pid.
process.on('SIGINT', () => {})
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal))
}

child.on('error', (error) => {
  process.stderr.write(`tessera: cannot start ${nodeBinary}: ${error.message}\n`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
    return
  }
  process.exit(code ?? 1)
})
