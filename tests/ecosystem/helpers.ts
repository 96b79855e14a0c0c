import { CookieClient } from '../../tests_helpers/index.js'

/** The session cookie name of the integration app. */
export const SESSION_COOKIE = 'adonis_session'

/**
 * The CSRF token of a page, from the `_csrf` field `csrfField()` renders.
 */
export function csrfTokenOf(html: string): string {
  const match = html.match(/name='_csrf' value='([^']+)'/)
  if (!match) {
    throw new Error(`The page has no CSRF field:\n${html}`)
  }
  return match[1]
}

/**
 * A browser of the integration app over HTTP, with its forms' CSRF tokens.
 */
export class AppBrowser extends CookieClient {
  /** Open a form page and post it with the page's CSRF token. */
  async submit(page: string, action: string, form: Record<string, string>, headers = {}) {
    const token = csrfTokenOf((await this.get(page)).text)
    return this.request(action, { method: 'POST', form: { ...form, _csrf: token }, headers })
  }

  /** Register a user (logged in afterwards). */
  register(email: string, password = 'secret-password') {
    return this.submit('/register', '/register', { email, password })
  }

  /** Log in, with remember-me when asked. */
  login(email: string, remember = false, password = 'secret-password') {
    return this.submit('/login', '/login', {
      email,
      password,
      ...(remember ? { remember: '1' } : {}),
    })
  }

  /** The logged-in user as `/dashboard` answers in JSON, or its redirect status. */
  async whoAmI(): Promise<{ status: number; email?: string; sessionId?: string }> {
    const response = await this.get('/dashboard', { accept: 'application/json' })
    return response.status === 200
      ? { status: 200, ...response.json() }
      : { status: response.status }
  }

  /** Forget the session cookie, as a browser does when it expires. */
  dropSessionCookie() {
    this.jar.delete(SESSION_COOKIE)
  }
}
