/**
 * Opens the configured stores and builds the application: shared by the server and the offline CLI
 * commands (which must not load the HTTP stack).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from './config/load.ts'
import { systemClock, type Clock } from './core/clock.ts'
import { createApplication, type Application } from './core/application/application.ts'
import type { Stores } from './core/stores.ts'
import { toApplicationSettings } from './config/application-settings.ts'
import type { CoreObserver } from './core/observer.ts'
import { createWebhookPoster } from './background/webhook-poster.ts'
import { deriveSecret, WrongMasterKeyError } from './core/tokens/key-protection.ts'
import { DataDirectoryError, openDataDirectory, type OpenedDataDirectory } from './storage/data-directory.ts'
import { sqliteFileName } from './storage/sqlite/open.ts'
import { openBackends, type Backends } from './storage/open.ts'
import { fillMissingUsernameSkeletons, type SkeletonBackfill } from './core/accounts/skeleton-backfill.ts'

export interface Runtime {
  application: Application
  stores: Stores
  /** Which backend holds what. */
  layout: Backends['layout']
  /** Skeletons given to accounts older than them, and accounts that could not get theirs. */
  skeletonBackfill: SkeletonBackfill
  close(): Promise<void>
}

/** Opens the stores and builds the application for `config` (used by the server and offline commands). */
export async function openRuntime(
  config: Config,
  clock: Clock = systemClock,
  observer?: CoreObserver,
  options: {
    onBackgroundError?(error: unknown): void
    /** False for commands that work on existing data: a missing data directory or key is an error. */
    mayCreateData?: boolean
  } = {},
): Promise<Runtime> {
  const dataDirectory = openDataDirectory(config.storage.dataDir, {
    mayCreate: options.mayCreateData ?? true,
    usesSqlite: config.storage.postgres === null,
  })
  const { masterKey } = dataDirectory
  const { onBackgroundError } = options
  const backends = await openBackends(config.storage, {
    now: clock.now(),
    deploymentId: deriveSecret(masterKey, 'tessera deployment id').toString('hex').slice(0, 32),
    ...(onBackgroundError ? { onBackgroundError } : {}),
  })
  const { stores, invalidationBus } = backends
  try {
    const skeletonBackfill = await fillMissingUsernameSkeletons(stores.accounts)
    // Nodemailer is loaded only where mail is configured: it is a good part of a start's imports.
    const mailer = config.mail.smtp
      ? (await import('./background/smtp-mailer.ts')).createSmtpMailer(config.mail.smtp)
      : null
    const application = await createApplication({
      stores,
      clock,
      masterKey,
      settings: toApplicationSettings(config),
      ...(observer ? { observer } : {}),
      postWebhook: createWebhookPoster(config.audit.webhook?.timeoutSeconds ?? 5),
      invalidationBus,
      mailer,
      onMailFailed(kind, reason, error) {
        // The kind and the relay's status only: the error's text may quote the address.
        const code = error as { responseCode?: unknown; code?: unknown } | undefined
        const status = [code?.code, code?.responseCode].filter((part) => part !== undefined).join(' ')
        onBackgroundError?.(new Error(`mail ${kind} ${reason}${status ? ` (${status})` : ''}`))
      },
    })
    return {
      application,
      stores,
      layout: backends.layout,
      skeletonBackfill,
      async close() {
        await application.email.whenMailSent()
        mailer?.close()
        await backends.close()
      },
    }
  } catch (error) {
    await backends.close()
    if (error instanceof WrongMasterKeyError) throw explainWrongMasterKey(config, dataDirectory, error)
    throw error
  }
}

/** Names the key file and the store that disagree, and what to do about it. */
function explainWrongMasterKey(config: Config, dataDirectory: OpenedDataDirectory, error: WrongMasterKeyError): Error {
  const store = config.storage.postgres
    ? 'the PostgreSQL database of TESSERA_DATABASE_URL'
    : join(config.storage.dataDir, sqliteFileName)
  if (dataDirectory.isNewKey) {
    // Made by this start because none was there: it belongs to nothing, so it goes again.
    rmSync(dataDirectory.masterKeyPath, { force: true })
    return new DataDirectoryError(
      `There was no master.key in ${config.storage.dataDir}, and ${store} holds signing keys sealed with one. ` +
        "Copy that deployment's master.key (from its first node or your backup; mode 0600) into the data directory.",
    )
  }
  return new DataDirectoryError(
    `${dataDirectory.masterKeyPath} does not open the signing keys stored in ${store}: it is not the master.key they ` +
      "were sealed with. Put back this deployment's master.key (from your backup, or from another node; mode 0600).",
    { cause: error },
  )
}
