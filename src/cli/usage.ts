/** The help texts of `tessera` and of each command. */
export const commandUsages = {
  serve: `Usage: tessera serve

Starts the server with the configuration from the environment (TESSERA_*) and
TESSERA_CONFIG_FILE, prints its URL and runs until SIGINT or SIGTERM.
`,
  user: `Usage:
  tessera user create <username> [--role <role>]... [--json]
  tessera user list [--json]

user create   Creates an account with the role "user" plus every --role given.
              The password is typed at a prompt (twice) or, when standard input
              is not a terminal, read from its first line. It is never taken as
              an argument, where it would be kept in shell history and shown by ps.
user list     Lists every account.
`,
  role: `Usage:
  tessera role grant <username> <role> [--json]
  tessera role revoke <username> <role> [--json]

Adds a role to, or removes it from, an account. Open sessions of the user see the
change on their next request.
`,
  config: `Usage: tessera config check [--json]

Validates the configuration and prints the effective settings. Exits with 1 and
lists every invalid setting when the configuration is wrong.
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
  version: `Usage: tessera version [--json]
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
  role grant <username> <role>       Give a role to an account
  role revoke <username> <role>      Take a role from an account
  config check                       Validate and print the configuration
  migrate                            Apply pending PostgreSQL migrations
  migrate-data [--from <data-dir>]   Copy the SQLite data into PostgreSQL (and Redis)
  version                            Print the version
  help [<command>]                   Print help

Options:
  --json       Machine-readable output (user, role, config, version)
  -h, --help   Help for a command

Exit codes: 0 success, 1 refused or failed, 2 wrong command line, 130 cancelled.
Settings come from TESSERA_* environment variables (see "tessera config check").
`

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandUsages, name)
}
