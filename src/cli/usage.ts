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
  version: `Usage: tessera version [--json]
`,
  keys: `Usage:
  tessera keys list [--json]
  tessera keys rotate [--algorithm EdDSA|ES256] [--json]

keys list     Lists the published signing keys: pending (published, not signing
              yet), active (signing) and retiring (verifying tokens it signed).
keys rotate   Publishes a new key at once; it signs after TESSERA_KEY_ACTIVATION_DELAY.
              The keys it replaces leave the JWKS once every token they signed has
              expired. Running servers pick it up within TESSERA_KEY_RELOAD_INTERVAL.
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
  role grant <username> <role>       Give a role to an account
  role revoke <username> <role>      Take a role from an account
  keys list | keys rotate            List or rotate the token signing keys
  client create <name>               Create a service client (prints its secret once)
  client list | client delete <name> List or delete service clients
  config check                       Validate and print the configuration
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
