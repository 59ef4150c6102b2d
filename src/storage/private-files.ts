/**
 * The data directory holds the password hashes, the sealed signing keys and the key that opens
 * them: nobody but the server's user may read it. Tessera creates it 0700 and its files 0600;
 * a directory or file found with looser modes (a copy made with `cp -r`, an archive unpacked
 * under another umask, a `chmod -R 755`) is refused at open, naming the path and the fix, the
 * same way for the directory, the database (and its -wal and -shm files, which SQLite creates
 * with the mode of the database) and `master.key`.
 */
import { statSync } from 'node:fs'

/** A path whose mode lets group or others in; the message names it and the `chmod` that fixes it. */
export class LoosePermissionsError extends Error {
  readonly path: string
  constructor(path: string, mode: number, fix: string) {
    super(
      `${path} is open to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it holds Tessera's secrets. ` +
        `Fix it with: ${fix}`,
    )
    this.name = 'LoosePermissionsError'
    this.path = path
  }
}

function modeOf(path: string): number | null {
  try {
    return statSync(path).mode
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

/** Throws when `path` exists and group or others have any access to it. */
export function assertPrivateDirectory(path: string): void {
  const mode = modeOf(path)
  if (mode !== null && (mode & 0o077) !== 0) throw new LoosePermissionsError(path, mode, `chmod 700 '${path}'`)
}

/** Throws when the file exists and group or others have any access to it. */
export function assertPrivateFile(path: string): void {
  const mode = modeOf(path)
  if (mode !== null && (mode & 0o077) !== 0) throw new LoosePermissionsError(path, mode, `chmod 600 '${path}'`)
}
