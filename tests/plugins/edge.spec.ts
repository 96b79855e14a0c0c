import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@japa/runner'
import edge, { Edge } from 'edge.js'
import { edgePluginSession as officialPlugin } from 'adonisjs-session-official/plugins/edge'
import { ReadOnlyValuesStore as OfficialValuesStore } from 'adonisjs-session-official'
import vine from '@vinejs/vine'
import { createTestApp, CookieClient, type TestApp } from '../../tests_helpers/index.js'
import { defineConfig, ReadOnlyValuesStore, stores } from '../../index.js'
import { edgePluginSession } from '../../src/plugins/edge.js'
import { redirectBackLocation } from '../../tests_helpers/framework.js'

/**
 * The templates of the tests, written to a temporary views folder mounted as
 * the "forms" disk, as an app keeps them in resources/views.
 */
const TEMPLATES: Record<string, string> = {
  'contact.edge': `
@flashMessage('notification')
  <div class="notification {{ $message.type }}">{{ $message.text }}</div>
@end
@error('E_VALIDATION_ERROR')
  <p class="summary">{{ $message }}</p>
@end
<form method="POST" action="/contact">
  <input name="name" value="{{ old('name', '') }}">
  @inputError('name')
    @each(message in $messages)
      <p class="error">name: {{ message }}</p>
    @end
  @end
  <input name="email" value="{{ old('email', '') }}">
  @inputError('email')
    @each(message in $messages)
      <p class="error">email: {{ message }}</p>
    @end
  @end
  <input name="password" type="password" value="{{ old('password', '') }}">
  @inputError('password')
    @each(message in $messages)
      <p class="error">password: {{ message }}</p>
    @end
  @end
  <input name="city" value="{{ old('address.city', '') }}">
  @inputError('address.city')
    @each(message in $messages)
      <p class="error">city: {{ message }}</p>
    @end
  @end
</form>`,
  'errors.edge': `
@error('login')
  <p class="login">{{ $message }}</p>
@end
@errors
  <ul>
  @each((message, key) in $messages)
    <li>{{ key }}={{ message }}</li>
  @end
  </ul>
@end
<p>empty={{ flashMessages.isEmpty }}</p>`,
  'globals.edge': `
<p>cart={{ session.get('cart', 'none') }}</p>
<p>has-user={{ session.has('user') }}</p>
<p>put={{ typeof session.put }}</p>
<p>all={{ JSON.stringify(session.all()) }}</p>
<p>flash={{ JSON.stringify(flashMessages.all()) }}</p>
<p>inspect-session={{ inspect(session) }}</p>
<p>inspect-flash={{ inspect(flashMessages) }}</p>
<p>old={{ old('missing', 'fallback') }}</p>
@flashMessage('notification')
  <p>flash-notification={{ $message }}</p>
@end`,
  'field.edge': `
@component('forms::components/field', { name: 'email' })
@end`,
  'components/field.edge': `
<input name="{{ name }}" value="{{ old(name, '') }}">
@inputError(name)
  <p class="component-error">{{ $messages.join(', ') }}</p>
@end`,
}

/**
 * The VineJS validator of the contact form.
 */
const contactValidator = vine.compile(
  vine.object({
    name: vine.string().minLength(3),
    email: vine.string().email(),
    password: vine.string().minLength(12),
    address: vine.object({ city: vine.string().minLength(2) }),
  })
)

let viewsFolder: string

/**
 * A real app with Edge, VineJS and the cookie store (what `node ace add` sets up).
 */
async function formsApp(
  sessionConfig: unknown = defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } })
) {
  return createTestApp({
    session: sessionConfig,
    providers: [
      () => import('@adonisjs/core/providers/edge_provider'),
      () => import('@adonisjs/core/providers/vinejs_provider'),
    ],
    routes: async (router, application) => {
      const server = await application.container.make('server')
      server.errorHandler(() => import('../fixtures/app_exception_handler.js'))
      router.get('/contact', ({ view }) => view.render('forms::contact'))
      router.post('/contact', async ({ request, response }) => {
        await request.validateUsing(contactValidator)
        return response.redirect('/contact')
      })
      router.post('/notify', ({ session, response }) => {
        session.flash('notification', { type: 'success', text: 'Message sent' })
        return response.redirect('/contact')
      })
      router.post('/login', ({ session, response }) => {
        session.flashErrors({ login: 'Invalid credentials' })
        session.flashErrors({ throttle: 'Too many attempts' })
        return response.redirect('/errors')
      })
      router.get('/errors', ({ view }) => view.render('forms::errors'))
      router.get('/field', ({ view }) => view.render('forms::field'))
      router.post('/cart', async ({ session, view }) => {
        session.put('cart', 3)
        session.put('user', { id: 1 })
        session.flash('notification', 'Saved')
        return view.render('forms::globals')
      })
      router.get('/globals', ({ view }) => view.render('forms::globals'))
      router.post('/logout', ({ session, view }) => {
        session.invalidate()
        return view.render('forms::globals')
      })
      router.get('/plain', ({ view }) => view.render('forms::globals'))
      router.get('/tag-session', async ({ session, view }) => {
        session.put('cart', 1)
        await session.tag('user-42')
        return view.render('forms::globals')
      })
    },
  })
}

/**
 * The value of a rendered `<p>label=value</p>` line.
 */
function line(html: string, label: string): string | undefined {
  return html.match(new RegExp(`<p>${label}=(.*)</p>`))?.[1]
}

test.group('edge plugin', (group) => {
  let app: TestApp

  group.setup(async () => {
    viewsFolder = await mkdtemp(join(tmpdir(), 'satchel-views-'))
    await mkdir(join(viewsFolder, 'components'))
    for (const [name, contents] of Object.entries(TEMPLATES)) {
      await writeFile(join(viewsFolder, name), contents)
    }
    edge.mount('forms', viewsFolder)
    app = await formsApp()
    return async () => {
      await app.close()
      edge.unmount('forms')
      await rm(viewsFolder, { recursive: true, force: true })
    }
  })

  test('after a failed form the next page shows the field errors and the old input, never the password', async ({
    assert,
  }) => {
    const browser = new CookieClient(app.url)
    const failed = await browser.request('/contact', {
      method: 'POST',
      headers: { referer: `${app.url}/contact` },
      form: {
        'name': 'Al',
        'email': 'not-an-email',
        'password': 'hunter2',
        'address[city]': 'X',
        '_csrf': 'csrf-token-value',
      },
    })
    assert.equal(failed.status, 302)
    assert.equal(failed.headers.get('location'), redirectBackLocation(`${app.url}/contact`))

    const page = (await browser.get('/contact')).text
    assert.match(page, /<p class="error">name: The name field must have at least 3 characters<\/p>/)
    assert.match(page, /<p class="error">email: The email field must be a valid email address<\/p>/)
    assert.match(page, /<p class="error">password: The password field must have at least 12/)
    assert.match(page, /<p class="error">city: The city field must have at least 2 characters<\/p>/)
    assert.include(page, '<input name="name" value="Al">')
    assert.include(page, '<input name="email" value="not-an-email">')
    assert.include(page, '<input name="city" value="X">')
    assert.include(page, '<input name="password" type="password" value="">')
    assert.notInclude(page, 'hunter2')
    assert.notInclude(page, 'csrf-token-value')
    assert.include(
      page,
      '<p class="summary">The form could not be saved. Please check the errors below.</p>'
    )

    const reload = (await browser.get('/contact')).text
    assert.notInclude(reload, 'class="error"')
    assert.notInclude(reload, 'class="summary"')
    assert.include(reload, '<input name="name" value="">')
  })

  test('a flashed notification renders once and is gone on reload', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    const sent = await browser.request('/notify', { method: 'POST', form: {} })
    assert.equal(sent.status, 302)

    const page = (await browser.get('/contact')).text
    assert.include(page, '<div class="notification success">Message sent</div>')
    const reload = (await browser.get('/contact')).text
    assert.notInclude(reload, 'notification')
  })

  test('@error reads one message of errorsBag and @errors all of them', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    await browser.request('/login', { method: 'POST', form: {} })
    const page = (await browser.get('/errors')).text
    assert.include(page, '<p class="login">Invalid credentials</p>')
    assert.include(page, '<li>login=Invalid credentials</li>')
    assert.include(page, '<li>throttle=Too many attempts</li>')
    assert.include(page, '<p>empty=false</p>')

    const reload = (await browser.get('/errors')).text
    assert.notInclude(reload, '<ul>')
    assert.notInclude(reload, 'class="login"')
    assert.include(reload, '<p>empty=true</p>')
  })

  test('the tags work inside components', async ({ assert }) => {
    const browser = new CookieClient(app.url)
    await browser.request('/contact', {
      method: 'POST',
      headers: { referer: `${app.url}/field` },
      form: { email: 'nope' },
    })
    const page = (await browser.get('/field')).text
    assert.include(page, '<input name="email" value="nope">')
    assert.include(
      page,
      '<p class="component-error">The email field must be a valid email address</p>'
    )
  })

  test("the session global is read-only and sees this request's changes, clear and invalidate included", async ({
    assert,
  }) => {
    const browser = new CookieClient(app.url)
    const first = (await browser.request('/cart', { method: 'POST', form: {} })).text
    assert.equal(line(first, 'cart'), '3')
    assert.equal(line(first, 'has-user'), 'true')
    assert.equal(line(first, 'put'), 'undefined')
    assert.equal(line(first, 'old'), 'fallback')

    const next = (await browser.get('/globals')).text
    assert.equal(line(next, 'cart'), '3')
    assert.equal(line(next, 'flash-notification'), 'Saved')

    const loggedOut = (await browser.request('/logout', { method: 'POST', form: {} })).text
    assert.equal(line(loggedOut, 'cart'), 'none')
    assert.equal(line(loggedOut, 'has-user'), 'false')
    assert.equal(line(loggedOut, 'all'), '{}')
    assert.equal(line(loggedOut, 'flash'), '{}')
  })

  test('templates rendered without a session read empty globals instead of failing', async ({
    assert,
  }) => {
    const skipping = await formsApp(
      defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() }, skip: ['/plain'] })
    )
    try {
      const response = await new CookieClient(skipping.url).get('/plain')
      assert.equal(response.status, 200)
      assert.equal(line(response.text, 'cart'), 'none')
      assert.equal(line(response.text, 'old'), 'fallback')
      assert.equal(line(response.text, 'all'), '{}')
      assert.notInclude(response.text, 'flash-notification')
      assert.deepEqual(response.setCookies, [])
    } finally {
      await skipping.close()
    }
  })

  test('tags and globals never expose the session id, a cookie value or the metadata', async ({
    assert,
  }) => {
    const memoryApp = await formsApp(
      defineConfig({ store: 'memory', stores: { memory: stores.memory() } })
    )
    try {
      for (const target of [app, memoryApp]) {
        const browser = new CookieClient(target.url)
        await browser.request('/cart', {
          method: 'POST',
          form: {},
          headers: { 'user-agent': 'UA-probe' },
        })
        const path = target === memoryApp ? '/tag-session' : '/globals'
        const page = (await browser.get(path, { 'user-agent': 'UA-probe' })).text

        const signedId = decodeURIComponent(browser.jar.get('adonis_session')!)
        const sessionId = JSON.parse(
          Buffer.from(signedId.slice(2, signedId.indexOf('.')), 'base64url').toString()
        ).message
        assert.isString(sessionId)
        assert.notInclude(page, sessionId)
        for (const [name, value] of browser.jar) {
          assert.notInclude(page, name === 'adonis_session' ? signedId : name)
          assert.notInclude(page, value)
          assert.notInclude(page, decodeURIComponent(value))
        }
        assert.notInclude(page, '__session_meta__')
        assert.notInclude(page, 'UA-probe')
        assert.notInclude(page, 'user-42')
        assert.include(line(page, 'all')!, '&quot;cart&quot;')
      }
    } finally {
      await memoryApp.close()
    }
  })

  test('a session tag written without its argument fails with a message naming the tag and file', async ({
    assert,
  }) => {
    await assert.rejects(
      () => edge.renderRaw('@inputError()\n  <p>never</p>\n@end'),
      /Invalid "@inputError" tag/
    )
    await assert.rejects(
      () => edge.renderRaw('@error()\n  <p>never</p>\n@end'),
      /Invalid "@error" tag/
    )
  })

  test('the tags render the same html as @adonisjs/session for the same flash messages', async ({
    assert,
  }) => {
    const template = [
      `@flashMessage('notification')`,
      `<b>{{ $message.text }}</b>`,
      `@end`,
      `@flashMessage('notification.text')`,
      `<i>{{ $message }}</i>`,
      `@end`,
      `@flashMessage('missing')`,
      `<s>never</s>`,
      `@end`,
      `@flashMessage('emptyList')`,
      `<s>never</s>`,
      `@end`,
      `@inputError('email')`,
      `@each(message in $messages)`,
      `<p>{{ message }}</p>`,
      `@end`,
      `@end`,
      `@inputError('name')`,
      `<s>never</s>`,
      `@end`,
      `@error('login')`,
      `<em>{{ $message }}</em>`,
      `@end`,
      `@error('other')`,
      `<s>never</s>`,
      `@end`,
      `@errors()`,
      `@each((message, key) in $messages)`,
      `<li>{{ key }}:{{ message }}</li>`,
      `@end`,
      `@end`,
    ].join('\n')
    const flash = {
      notification: { text: 'Saved' },
      emptyList: [],
      inputErrorsBag: { email: ['Required', 'Invalid'] },
      errorsBag: { login: 'Denied', E_VALIDATION_ERROR: 'Check the form' },
    }
    const official = new Edge().use(officialPlugin)
    const ours = new Edge().use(edgePluginSession)
    const expected = await official.renderRaw(template, {
      flashMessages: new OfficialValuesStore(structuredClone(flash)),
    })
    const actual = await ours.renderRaw(template, {
      flashMessages: new ReadOnlyValuesStore(structuredClone(flash)),
    })
    assert.include(expected, '<li>login:Denied</li>')
    assert.equal(actual, expected)
  })

  test('@errors is written with or without parentheses, as with @adonisjs/session', async ({
    assert,
  }) => {
    const state = { flashMessages: new ReadOnlyValuesStore({ errorsBag: { login: 'Denied' } }) }
    const template = '{{ $messages.login }}\n@end'
    assert.equal((await edge.renderRaw(`@errors()\n${template}`, state)).trim(), 'Denied')
    assert.equal((await edge.renderRaw(`@errors\n${template}`, state)).trim(), 'Denied')
    assert.equal((await edge.renderRaw(`@errors\n${template}`, {})).trim(), '')
  })
})
