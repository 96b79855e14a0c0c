import { flags } from '@adonisjs/core/ace'
import { fingerprint } from '../src/debug.js'
import { printable, SessionCommand } from './session_command.js'
import type { SessionManager } from '../src/session_manager.js'

/**
 * An epoch-milliseconds time as `2025-01-31 09:30:00`, in UTC.
 */
function formatTime(epochMs: number | undefined): string {
  return epochMs ? new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ') : '-'
}

/**
 * `node ace session:list --user <id>`: the live sessions of a user, most
 * recently seen first. Sessions show as fingerprints (the first 8 hex digits of
 * the id's SHA-256) unless `--show-ids` is given, since an id is a credential.
 */
export default class SessionList extends SessionCommand {
  static commandName = 'session:list'
  static description = "List a user's live sessions: created, last seen, IP address, user agent"
  static help = [
    'Session ids are credentials, so the table shows fingerprints; "session:destroy" accepts them with --user.',
    '{{ binaryName }} session:list --user=42',
    '{{ binaryName }} session:list --user=42 --show-ids',
  ]

  @flags.string({ description: 'The user id the sessions were tagged with', required: true })
  declare user: string

  @flags.boolean({ description: 'Print full session ids instead of fingerprints' })
  declare showIds?: boolean

  /** Print the table of the user's sessions. */
  protected async handle(manager: SessionManager): Promise<void> {
    const sessions = await manager.tagged(this.user)
    if (sessions.length === 0) {
      this.logger.info(
        `User "${this.user}" has no live sessions in the "${manager.storeName}" store`
      )
      return
    }
    const table = this.ui.table()
    table.head(['Session', 'Created (UTC)', 'Last seen (UTC)', 'IP address', 'User agent'])
    for (const session of sessions) {
      table.row([
        this.showIds ? session.id : fingerprint(session.id),
        formatTime(session.metadata?.createdAt),
        formatTime(session.metadata?.lastSeenAt),
        printable(session.metadata?.ipAddress, 45),
        printable(session.metadata?.userAgent, 60),
      ])
    }
    table.render()
  }
}
