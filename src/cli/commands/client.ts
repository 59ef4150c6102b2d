/**
 * `tessera client create|list|delete`: service clients, the credentials resource servers use for
 * introspection. The secret is printed once, at creation, and is kept only as a hash.
 */
import { loadConfig } from '../../config/load.ts'
import type { ServiceClientRecord } from '../../core/application/types.ts'
import { createOfflineContext } from '../../core/application/types.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import { formatJson, formatTable } from '../format.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'

const cliActor = { actorUserId: null, context: createOfflineContext('cli') }
import { commandUsages } from '../usage.ts'
import { parseCommandArgs } from '../command-args.ts'

function describeClient(client: ServiceClientRecord) {
  return { clientId: client.id, name: client.name, createdAt: client.createdAt.toISOString() }
}

function parseCommand(args: string[], subcommand: string, expectedPositionals: number) {
  const { values, positionals } = parseCommandArgs(args)
  if (!values.help && positionals.length < expectedPositionals) {
    throw usageError(`client ${subcommand}: missing <name>.`)
  }
  if (positionals.length > expectedPositionals) throw usageError(`client ${subcommand}: too many arguments.`)
  return { isJson: values.json, isHelp: values.help, name: positionals[0] ?? '' }
}

async function createClient(args: string[], io: Io): Promise<number> {
  const command = parseCommand(args, 'create', 1)
  if (command.isHelp) {
    io.stdout(commandUsages.client)
    return exitCodes.success
  }
  const { client, secret } = await withApplication(loadConfig(io.env), { io, access: 'write' }, ({ tokenAdmin }) =>
    tokenAdmin.createServiceClient(command.name, cliActor),
  )
  if (command.isJson) {
    io.stdout(formatJson({ ...describeClient(client), clientSecret: secret }))
  } else {
    io.stdout(
      `Created service client ${client.name}.\n` +
        `  client id:     ${client.id}\n` +
        `  client secret: ${secret}\n` +
        'The secret is shown only now; Tessera keeps only its hash. Use both with HTTP Basic\n' +
        'authentication on the service-client endpoints: token introspection and revocation,\n' +
        'ticket redemption, session and player data, and the event stream.\n',
    )
  }
  return exitCodes.success
}

async function listClients(args: string[], io: Io): Promise<number> {
  const command = parseCommand(args, 'list', 0)
  if (command.isHelp) {
    io.stdout(commandUsages.client)
    return exitCodes.success
  }
  const clients = await withApplication(loadConfig(io.env), { io, access: 'read' }, ({ tokenAdmin }) =>
    tokenAdmin.listServiceClients(),
  )
  if (command.isJson) io.stdout(formatJson({ clients: clients.map(describeClient) }))
  else if (clients.length === 0) io.stdout('No service clients.\n')
  else {
    const rows = clients.map((client) => [client.name, client.id, client.createdAt.toISOString()])
    io.stdout(`${formatTable([['NAME', 'CLIENT ID', 'CREATED'], ...rows])}\n`)
  }
  return exitCodes.success
}

async function deleteClient(args: string[], io: Io): Promise<number> {
  const command = parseCommand(args, 'delete', 1)
  if (command.isHelp) {
    io.stdout(commandUsages.client)
    return exitCodes.success
  }
  const deleted = await withApplication(loadConfig(io.env), { io, access: 'write' }, ({ tokenAdmin }) =>
    tokenAdmin.deleteServiceClient(command.name, cliActor),
  )
  if (!deleted) throw new CliError(`No service client named or identified "${command.name}".`)
  io.stdout(command.isJson ? formatJson(describeClient(deleted)) : `Deleted service client ${deleted.name}.\n`)
  return exitCodes.success
}

export async function run(args: string[], io: Io): Promise<number> {
  const [subcommand, ...rest] = args
  switch (subcommand) {
    case 'create':
      return createClient(rest, io)
    case 'list':
      return listClients(rest, io)
    case 'delete':
      return deleteClient(rest, io)
    case undefined:
      throw usageError('client: missing subcommand (create, list or delete).')
    case '-h':
    case '--help':
      io.stdout(commandUsages.client)
      return exitCodes.success
    default:
      throw usageError(`client: unknown subcommand "${subcommand}" (expected create, list or delete).`)
  }
}
