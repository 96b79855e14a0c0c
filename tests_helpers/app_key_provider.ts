import type { ApplicationService } from '@adonisjs/core/types'
import { appKeyConfigEntries } from './framework.js'

/**
 * A provider entry that sets the app key once the config is loaded and before
 * any provider boots, so a test app runs with another app key (`app.appKey` on
 * AdonisJS 6, the default encrypter of `config/encryption.ts` on 7, where it
 * may be a list of keys, newest first).
 */
export function appKeyProvider(appKey: string | string[]) {
  return async () => ({
    default: class AppKeyProvider {
      constructor(public app: ApplicationService) {}

      /** Replace the app key of the loaded config. */
      register() {
        for (const [path, value] of appKeyConfigEntries(appKey)) {
          this.app.config.set(path, value)
        }
      }
    },
  })
}
