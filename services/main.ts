import app from '@adonisjs/core/services/app'
import type { SessionManager } from '../src/session_manager.js'

let manager: SessionManager

/**
 * The app's SessionManager: read, destroy, list and end sessions outside HTTP.
 */
await app.booted(async () => {
  manager = await app.container.make('session.manager')
})

export { manager as default }
