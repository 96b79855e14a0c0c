import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import type { SessionManager } from '../src/session_manager.js'

/**
 * True for the package's own errors, whose message already tells the fix.
 */
function isSessionError(error: unknown): error is Error {
  const code = (error as { code?: unknown })?.code
  return (
    error instanceof Error &&
    typeof code === 'string' &&
    (code.startsWith('E_SESSION_') || code === 'E_INVALID_SESSION_CONFIG')
  )
}

/**
 * Text from a request (user agent, IP address) made safe for a terminal:
 * control characters (escape sequences) removed, cut to `maxLength`.
 */
export function printable(value: string | undefined, maxLength: number): string {
  if (!value) {
    return '-'
  }
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 1)}…` : clean
}

/**
 * Base of the `session:*` commands: boots the app, picks the store (`--store`)
 * and prints the package's errors as one line with exit code 1.
 */
export abstract class SessionCommand extends BaseCommand {
  static options: CommandOptions = { startApp: true }

  @flags.string({
    description: 'A store from the "stores" of config/session.ts (default: the configured store)',
  })
  declare store?: string

  /** The command's work, given the SessionManager of the chosen store. */
  protected abstract handle(manager: SessionManager): Promise<void>

  /** Resolve the SessionManager and run the command. */
  async run(): Promise<void> {
    try {
      const manager = await this.app.container.make('session.manager')
      await this.handle(this.store ? manager.use(this.store) : manager)
    } catch (error) {
      if (!isSessionError(error)) {
        throw error
      }
      this.logger.error(error.message)
      this.exitCode = 1
    }
  }
}
