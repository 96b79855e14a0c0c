import type { HttpContext } from '@adonisjs/core/http'

/** More than the 4096 bytes a browser keeps in one cookie. */
const LARGE_VALUE_LENGTH = 5000

/**
 * The cookie-size guard: a button that stores more than a cookie can hold.
 * On the cookie store the request fails with E_SESSION_COOKIE_TOO_LARGE
 * instead of sending a cookie the browser would silently drop.
 */
export default class CookieSizeController {
  /** The panel. */
  show({ view }: HttpContext) {
    return view.render('pages/cookie_size', { length: LARGE_VALUE_LENGTH })
  }

  /** Flash a 5,000-character value: kept for the next request only. */
  store({ session, response }: HttpContext) {
    session.flash('largeValue', 'x'.repeat(LARGE_VALUE_LENGTH))
    session.flash('notification', {
      type: 'success',
      message: `Stored ${LARGE_VALUE_LENGTH.toLocaleString('en-US')} characters in the ${session.storeName} store, which keeps data on the server: no cookie limit applies.`,
    })
    return response.redirect('/cookie-size')
  }
}
