import type { HttpContext } from '@adonisjs/core/http'

/**
 * The stores the demo can run on, as the home page offers them.
 */
const STORES = [
  {
    name: 'file',
    description: 'one file per session in demo/tmp/sessions (the default, no service needed).',
  },
  { name: 'memory', description: 'process memory, lost when the demo stops.' },
  {
    name: 'redis',
    description: 'Redis, when it runs on REDIS_HOST:REDIS_PORT (127.0.0.1:6379 by default).',
  },
  {
    name: 'cookie',
    description:
      'an encrypted cookie in the browser: nothing on the server, 4 KB at most, no device list.',
  },
]

/**
 * The home page: its visit counter, what to try, and the store in use.
 */
export default class HomeController {
  /** Count this visit in the session and show the count. */
  show({ session, view }: HttpContext) {
    session.increment('visits')
    return view.render('pages/home', { visits: session.get('visits'), stores: STORES })
  }
}
