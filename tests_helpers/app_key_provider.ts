import type { ApplicationService } from '@adonisjs/core/types'

/**
 * A provider entry that sets `app.appKey` once the config is loaded and before
 * any provider boots, so a test app runs with another app key.
 */
export function appKeyProvider(appKey: string) {
  return async () => ({
    default: class AppKeyProvider {
      constructor(public app: ApplicationService) {}

      /** Replace the app key of the loaded config. */
      register() {
        this.app.config.set('app.appKey', appKey)
      }
    },
  })
}
