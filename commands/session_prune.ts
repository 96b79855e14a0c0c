import { SessionCommand } from './session_command.js'
import type { SessionManager } from '../src/session_manager.js'

/**
 * `node ace session:prune`: delete expired sessions from stores that keep them
 * until someone removes them (file, database, memory). Schedule it, e.g. hourly.
 */
export default class SessionPrune extends SessionCommand {
  static commandName = 'session:prune'
  static description = 'Delete expired sessions from the session store'
  static help = [
    'Stores that expire entries on their own (redis, cookie) have nothing to prune.',
    '{{ binaryName }} session:prune',
    '{{ binaryName }} session:prune --store=file',
  ]

  /** Prune the store and print how many sessions were removed. */
  protected async handle(manager: SessionManager): Promise<void> {
    const removed = await manager.prune()
    if (removed === null) {
      this.logger.info(
        `The "${manager.storeName}" store removes expired sessions on its own: nothing to prune`
      )
      return
    }
    this.logger.success(
      `Removed ${removed} expired ${removed === 1 ? 'session' : 'sessions'} from the "${manager.storeName}" store`
    )
  }
}
