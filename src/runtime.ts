/**
 * Opens the configured stores and builds the application: shared by the server and the offline CLI
 * commands (which must not load the HTTP stack).
 */
import { join } from 'node:path'
import type { Config } from './config/load.ts'
import { systemClock, type Clock } from './core/clock.ts'
import { createApplication, type Application } from './core/application/application.ts'
import type { Stores } from './core/stores.ts'
import { toApplicationSettings } from './config/application-settings.ts'
import type { CoreObserver } from './core/observer.ts'
import { createWebhookPoster } from './background/webhook-poster.ts'
import { loadOrCreateMasterKey } from './storage/master-key.ts'
import { deriveSecret } from './core/tokens/key-protection.ts'
import { openBackends, type Backends } from './storage/open.ts'

export interface Runtime {
  application: Application
  stores: Stores
  /** Which backend holds what. */
  layout: Backends['layout']
  close(): Promise<void>
}

/** Opens the stores and builds the application for `config` (used by the server and offline commands). */
export async function openRuntime(
  config: Config,
  clock: Clock = systemClock,
  observer?: CoreObserver,
  options: { onBackgroundError?(error: unknown): void } = {},
): Promise<Runtime> {
  const masterKey = loadOrCreateMasterKey(join(config.storage.dataDir, 'master.key'))
  const { onBackgroundError } = options
  const backends = await openBackends(config.storage, {
    now: clock.now(),
    deploymentId: deriveSecret(masterKey, 'tessera deployment id').toString('hex').slice(0, 32),
    ...(onBackgroundError ? { onBackgroundError } : {}),
  })
  const { stores, invalidationBus } = backends
  try {
    const application = await createApplication({
      stores,
      clock,
      masterKey,
      settings: toApplicationSettings(config),
      ...(observer ? { observer } : {}),
      postWebhook: createWebhookPoster(config.audit.webhook?.timeoutSeconds ?? 5),
      invalidationBus,
    })
    return { application, stores, layout: backends.layout, close: () => backends.close() }
  } catch (error) {
    await backends.close()
    throw error
  }
}
