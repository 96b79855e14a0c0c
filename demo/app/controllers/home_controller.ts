import type { HttpContext } from '@adonisjs/core/http'

/**
 * The home page and its visit counter.
 */
export default class HomeController {
  /** Count this visit in the session and show the count. */
  show({ session, view }: HttpContext) {
    session.increment('visits')
    return view.render('pages/home', { visits: session.get('visits') })
  }
}
