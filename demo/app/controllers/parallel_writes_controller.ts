import { setTimeout as sleep } from 'node:timers/promises'
import type { HttpContext } from '@adonisjs/core/http'

/** How many requests the page sends at once. */
export const PARALLEL_REQUESTS = 10

/** The top-level session keys the parallel requests write: `parallel_1` … `parallel_10`. */
const KEY_PREFIX = 'parallel_'

/** The parallel keys a session holds, in order. */
function parallelKeys(values: Record<string, unknown>): string[] {
  return Object.keys(values)
    .filter((key) => key.startsWith(KEY_PREFIX))
    .sort((a, b) => Number(a.slice(KEY_PREFIX.length)) - Number(b.slice(KEY_PREFIX.length)))
}

/**
 * The "parallel writes" panel: the page fires requests at the same time, each
 * storing its own key in the session, then reads back which keys were kept.
 */
export default class ParallelWritesController {
  /** The panel. */
  show({ view }: HttpContext) {
    return view.render('pages/parallel', { requests: PARALLEL_REQUESTS })
  }

  /** Forget the keys of an earlier run (and make sure the session exists). */
  reset({ session }: HttpContext) {
    session.forget(parallelKeys(session.all()))
    session.put('parallelRunAt', Date.now())
    return { reset: true }
  }

  /**
   * Store one key. The pause keeps every request in flight at once, so each
   * reads the session before any of the others saved it.
   */
  async write({ session, params }: HttpContext) {
    const index = Number(params.index)
    session.put(`${KEY_PREFIX}${index}`, index)
    await sleep(300)
    return { stored: `${KEY_PREFIX}${index}` }
  }

  /** The keys the session kept. */
  kept({ session }: HttpContext) {
    return { keys: parallelKeys(session.all()), requests: PARALLEL_REQUESTS }
  }
}
