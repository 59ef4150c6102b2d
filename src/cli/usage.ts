/** The help texts of `tessera` and of each command. */
export const commandUsages = {
  serve: `Usage: tessera serve

Starts the server with the configuration from the environment (TESSERA_*) and
TESSERA_CONFIG_FILE, prints its URL and runs until SIGINT or SIGTERM.
`,
  user: `Usage:
  tessera user create <username> [--role <role>]... [--json]
  tessera user list [--json]
  tessera user import FILE [--json]
  tessera user unlock <username> [--json]
  tessera user mfa <username> [--json]
  tessera user mfa-reset <username> [--json]
  tessera user show USER [--json]
  tessera user sessions list USER [--json]
  tessera user sessions end USER [--json]
  tessera user disable USER [--reason TEXT] [--json]
  tessera user enable USER [--json]
  tessera user delete USER --yes [--json]
  tessera user password USER [--no-require-change | --keep-password] [--json]

USER is a username (any spelling: case and width do not matter) or a user id.

user create   Creates an account with the role "user" plus every --role given.
              The password is typed at a prompt (twice) or, when standard input
              is not a terminal, read from its first line. It is never taken as
              an argument, where it would be kept in shell history and shown by ps.
user list     Lists every account.
user import   Imports accounts with their existing password hashes from FILE, one
              JSON object per line: {"username": "...", "password_hash": "$2b$...",
              "roles": ["user"]}. bcrypt ($2a$, $2b$, $2y$) or argon2id hashes; a
              bcrypt hash becomes argon2id at the user's first sign-in. Existing
              usernames are left untouched, so a file can be imported again. Bad
              lines are reported by number and skipped; exit code 1 if any failed.
user unlock   Clears the sign-in failure counters of an account (lock-out).
user mfa      Says whether an account has a second factor (TOTP, recovery codes left,
              passkeys) and whether a role requires one.
user mfa-reset
              Removes an account's TOTP secret, recovery codes and passkeys and ends
              every session of it (a lost device); the next sign-in is by password.
user show     An account: roles, status, whether a new password is required, live sessions.
user sessions list
              An account's live sessions: address, user agent, created, last activity.
user sessions end
              Ends every session and refresh token of an account at once (a kick).
user disable  Disables an account and ends its sessions; its sign-in gets the answer of a
              wrong password. --reason (at most 200 characters) goes to the audit trail.
              The last enabled administrator cannot be disabled.
user enable   Lets a disabled account sign in again.
user delete   Deletes an account with its sessions, second factor and personal data; its
              audit events stay under a pseudonym. Needs --yes. Not the last admin.
user password Sets a new password (prompt or standard input) and ends every session; the
              user must choose another at the next sign-in unless --no-require-change.
              --keep-password only requires a new password at the next sign-in.
`,
  role: `Usage:
  tessera role grant <username> <role> [--json]
  tessera role revoke <username> <role> [--json]

Adds a role to, or removes it from, an account. Open sessions of the user see the
change on their next request.
`,
  config: `Usage: tessera config check [--json]

Validates the configuration (and, as a start does, that TESSERA_HOST resolves and
the TLS files hold a certificate and its key) and prints the effective settings,
secrets masked. Exits with 1 and lists every invalid setting when the
configuration is wrong.
`,
  migrate: `Usage: tessera migrate [--json]

Applies pending PostgreSQL migrations (TESSERA_DATABASE_URL, TESSERA_DATABASE_SCHEMA), once,
even when several run at the same moment. Run it before starting nodes of a new version, or
start them with TESSERA_DATABASE_MIGRATE_ON_START=true. The embedded SQLite database migrates
itself when opened.
`,
  'migrate-data': `Usage: tessera migrate-data [--from <data-dir>] [--without-sessions] [--json]

Copies the embedded SQLite database of <data-dir> (default: TESSERA_DATA_DIR) into the
configured PostgreSQL: users and roles, signing keys, and live sessions (into Redis when
TESSERA_REDIS_URL or TESSERA_REDIS_CLUSTER is set). Run "tessera migrate" first. Safe to run
again: what is already there is skipped. The nodes need the same master.key as <data-dir>.
`,
  backup: `Usage: tessera backup <directory> [--json]

Copies the embedded SQLite database (TESSERA_DATA_DIR) and its master.key into
<directory>, a new directory made 0700 with both files 0600. It runs beside a
live server: the copy holds every change committed before it started, and the
server's writes go on meanwhile. <directory> is laid out as a data directory:
to restore, stop the server and start it with TESSERA_DATA_DIR=<directory> (or
move the directory into place). The backup holds master.key, a secret: keep it
as private as the data directory. With PostgreSQL, use pg_dump and keep a copy
of master.key.
`,
  version: `Usage: tessera version [--json]
`,
  audit: `Usage:
  tessera audit query [filters] [--limit n] [--jsonl]
  tessera audit tail [filters] [--interval 1s] [--count n] [--for 10m]
  tessera audit alerts [--since time] [--rule name] [--limit n] [--json]

Filters: --user <username, id or ~pseudonym> (actor or subject), --type <event type> (repeatable),
--outcome success|failure, --ip <address>, --since <ISO time>, --until <ISO time>.

audit query   The newest matching events (50 by default); --jsonl prints one JSON
              object per line, the shape of GET /v1/admin/audit?format=jsonl.
audit tail    Prints new events as JSON lines as they are recorded (by any node),
              until --count events were printed, --for has passed, or Ctrl-C.
audit alerts  Alerts raised by the security review, newest first.
`,
  keys: `Usage:
  tessera keys list [--json]
  tessera keys rotate [--algorithm EdDSA|ES256|RS256] [--emergency] [--json]

keys list     Lists the published signing keys: pending (published, not signing
              yet), active (signing) and retiring (verifying tokens it signed).
keys rotate   Publishes a new key at once; it signs after TESSERA_KEY_ACTIVATION_DELAY.
              The keys it replaces leave the JWKS once every token they signed has
              expired. Running servers pick it up within TESSERA_KEY_RELOAD_INTERVAL.
              --emergency (a key may have leaked): the new key signs at once and every
              other key leaves the JWKS at once, so the tokens they signed stop
              verifying; sessions stay, and their next refresh gets a new token.
`,
  client: `Usage:
  tessera client create <name> [--json]
  tessera client list [--json]
  tessera client delete <name-or-id> [--json]

Service clients are the credentials of resource servers (game servers, APIs) for
POST /v1/oauth/introspect (HTTP Basic: client id and secret). The secret is printed
once, at creation; Tessera keeps only its hash.
`,
  help: `Usage: tessera help [<command>]
`,
} as const

export type CommandName = keyof typeof commandUsages

export const generalUsage = `Usage: tessera <command> [options]

Commands:
  serve                              Start the server
  user create <username> [--role r]  Create an account (password from a prompt or stdin)
  user list                          List accounts
  user import FILE                   Import accounts with bcrypt/argon2id hashes (JSON lines)
  user unlock <username>             Lift a sign-in lock-out
  user mfa <username>                Show an account's second factor
  user mfa-reset <username>          Remove an account's second factor and passkeys
  user show USER                     Show an account (USER: username or id)
  user sessions list|end USER        List an account's sessions, or end them all (kick)
  user disable|enable USER           Disable an account (ends its sessions) or enable it
  user delete USER --yes             Delete an account and its personal data
  user password USER                 Set a password, or require a new one at next sign-in
  role grant <username> <role>       Give a role to an account
  role revoke <username> <role>      Take a role from an account
  audit query|tail|alerts            Read the audit trail and the alerts
  keys list | keys rotate            List or rotate the token signing keys
  client create <name>               Create a service client (prints its secret once)
  client list | client delete <name> List or delete service clients
  config check                       Validate and print the configuration
  migrate                            Apply pending PostgreSQL migrations
  migrate-data [--from <data-dir>]   Copy the SQLite data into PostgreSQL (and Redis)
  backup <directory>                 Copy the SQLite database and master.key, online
  version                            Print the version
  help [<command>]                   Print help

Options:
  --json       Machine-readable output (user, role, keys, client, config, version)
  -h, --help   Help for a command

Exit codes: 0 success, 1 refused or failed, 2 wrong command line, 130 cancelled.
Settings come from TESSERA_* environment variables (see "tessera config check").
`

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandUsages, name)
}
