import type { HttpContext, Router } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import vine from '@vinejs/vine'
import edge from 'edge.js'
import { RememberMeToken } from '@adonisjs/auth/session'
import { SessionManager } from '../../src/session_manager.js'
import User from './user.js'

const registerValidator = vine.compile(
  vine.object({
    email: vine.string().email(),
    password: vine.string().minLength(8),
  })
)

const profileValidator = vine.compile(vine.object({ name: vine.string().minLength(3) }))

/**
 * The pages Chromium fills in: forms with the CSRF field, old input and the
 * messages of each field (the session's Edge tags).
 */
const VIEWS: Record<string, string> = {
  register: `<h1>Register</h1>
<form method="POST" action="/register">
  {{ csrfField() }}
  <input name="email" id="email" value="{{ old('email') ?? '' }}" />
  @inputError('email')
    <p id="email-error">{{ $messages[0] }}</p>
  @end
  <input name="password" id="password" type="password" />
  @inputError('password')
    <p id="password-error">{{ $messages[0] }}</p>
  @end
  <button type="submit" id="submit">Register</button>
</form>`,
  login: `<h1>Login</h1>
@error('E_INVALID_CREDENTIALS')
  <p id="login-error">{{ $message }}</p>
@end
<form method="POST" action="/login">
  {{ csrfField() }}
  <input name="email" id="email" value="{{ old('email') ?? '' }}" />
  <input name="password" id="password" type="password" />
  <input name="remember" id="remember" type="checkbox" value="1" />
  <button type="submit" id="submit">Login</button>
</form>`,
  dashboard: `<h1>Dashboard</h1>
<p id="user">{{ user.email }}</p>
<form method="POST" action="/logout">{{ csrfField() }}<button id="logout">Logout</button></form>
<form method="POST" action="/devices/sign-out-others">{{ csrfField() }}<button id="sign-out-others">Sign out my other devices</button></form>`,
  forged: `<form method="POST" action="/logout"><input type="hidden" name="_csrf" value="forged" /><button id="forged">Logout</button></form>`,
  inertia_layout: `<!DOCTYPE html><html><body>@inertia()</body></html>`,
}

/**
 * The named `auth` middleware of the starter kits: log in first.
 */
async function authenticate(ctx: HttpContext, next: NextFn) {
  await ctx.auth.authenticateUsing(['web'], { loginRoute: '/login' })
  return next()
}

/**
 * Sign out the user's other devices, the recipe of the docs: end their
 * other sessions (tagged by `auth.tagSessions`) and revoke their other
 * remember-me tokens, keeping this device's token, so a remember-me device
 * cannot come back.
 */
async function signOutOtherDevices({ auth, session, request, containerResolver }: HttpContext) {
  const user = auth.use('web').getUserOrFail()
  const manager = await containerResolver.make(SessionManager)
  const sessions = await manager.destroyTagged(user.id, { except: session.sessionId })
  const current = RememberMeToken.decode(request.encryptedCookie(auth.use('web').rememberMeKeyName))
  let rememberMeTokens = 0
  for (const token of await User.rememberMeTokens.all(user)) {
    if (String(token.identifier) !== current?.identifier) {
      rememberMeTokens += await User.rememberMeTokens.delete(user, token.identifier)
    }
  }
  return { sessions, rememberMeTokens }
}

/**
 * The routes of the integration app.
 */
export function ecosystemRoutes(router: Router) {
  for (const [name, template] of Object.entries(VIEWS)) {
    edge.removeTemplate(name)
    edge.registerTemplate(name, { template })
  }

  router.get('/health', ({ session, auth, request }) => ({
    ok: true,
    skipped: session.skipped,
    loggedIn: auth.use('web').isAuthenticated,
    csrfToken: typeof request.csrfToken === 'string',
    keys: Object.keys(session.all()),
  }))
  router.post('/health', () => ({ ok: true }))
  router.post('/assets/upload', ({ session }) => {
    session.put('upload', 'kept for this request')
    session.flash('notice', 'never stored')
    return { upload: session.get('upload'), all: session.all() }
  })

  router.get('/register', ({ view }) => view.render('register'))
  router.post('/register', async ({ request, auth, response }) => {
    const data = await request.validateUsing(registerValidator)
    const user = await User.create(data)
    await auth.use('web').login(user)
    return response.redirect('/dashboard')
  })

  router.get('/login', ({ view }) => view.render('login'))
  router.post('/login', async ({ request, auth, response }) => {
    const { email, password } = request.only(['email', 'password'])
    const user = await User.verifyCredentials(email, password)
    await auth.use('web').login(user, !!request.input('remember'))
    return response.redirect('/dashboard')
  })
  router.post('/logout', async ({ auth, response }) => {
    await auth.use('web').logout()
    return response.redirect('/login')
  })

  router
    .get('/dashboard', ({ auth, view, request, session }) => {
      const user = auth.use('web').getUserOrFail()
      if (request.accepts(['html', 'json']) === 'json') {
        return { id: user.id, email: user.email, sessionId: session.sessionId }
      }
      return view.render('dashboard', { user })
    })
    .use(authenticate)
  router.get('/forged', ({ view }) => view.render('forged'))

  router
    .get('/devices', async ({ auth, session, containerResolver }) => {
      const manager = await containerResolver.make(SessionManager)
      const sessions = await manager.tagged(auth.use('web').getUserOrFail().id)
      return sessions.map(({ id }) => ({ current: id === session.sessionId }))
    })
    .use(authenticate)
  router
    .post('/devices/sign-out-others', async (ctx) => {
      const result = await signOutOtherDevices(ctx)
      return ctx.request.accepts(['html', 'json']) === 'json'
        ? result
        : ctx.response.redirect('/dashboard')
    })
    .use(authenticate)

  router.get('/profile', ({ inertia }) =>
    inertia.render('profile' as never, { name: 'Ada' } as never)
  )
  router.post('/profile', async ({ request, response }) => {
    await request.validateUsing(profileValidator)
    return response.redirect('/profile')
  })
}
