import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { CookieClient } from '../tests_helpers/index.js'
import { PackedApps, type AppServer } from '../tests_helpers/packed_app.js'
import type { AppSessionPackage, AppStore } from '../tests_helpers/packed_app_files.js'

/** The official package the app switches from and to: 7.x on AdonisJS 6, 8.x on 7. */
const official = JSON.parse(
  await readFile(new URL('../node_modules/@adonisjs/session/package.json', import.meta.url), 'utf8')
) as { version: string }
const OFFICIAL = `@adonisjs/session ${official.version}`

/**
 * One browser against a fresh app whose session package changes between
 * server runs, as an app that switches packages: same cookies, same stores.
 */
class SwitchingApp {
  browser = new CookieClient('')
  #server?: AppServer

  constructor(
    public apps: PackedApps,
    public store: AppStore
  ) {}

  /** Stop the running server, if any, and start the app on `source`. */
  async runOn(source: AppSessionPackage) {
    await this.stop()
    this.#server = await this.apps.start(source, { SESSION_DRIVER: this.store })
    this.browser.baseUrl = this.#server.url
  }

  /** The id of the browser's session. */
  async sessionId(): Promise<string> {
    return (await this.browser.get('/session-id')).json().sessionId
  }

  /** Count a visit; the count the session holds now. */
  async visit(): Promise<number> {
    return (await this.browser.get('/visits')).json().visits
  }

  /** Flash a notice (POST, then the redirect is not followed). */
  async flashNotice(title: string) {
    const response = await this.browser.request('/notes', { form: { title } })
    if (response.status !== 302) {
      throw new Error(`POST /notes answered ${response.status}: ${response.text}`)
    }
  }

  /** The flashed notice of the previous request, read once. */
  async notice(): Promise<string | null> {
    return (await this.browser.get('/notes')).json().notice
  }

  /** Stop the running server. */
  async stop() {
    await this.#server?.stop()
    this.#server = undefined
  }
}

test.group(`switching packages | ${OFFICIAL} and adonis-satchel in a fresh app`, (group) => {
  let apps: PackedApps
  group.setup(async () => {
    apps = await PackedApps.create()
  })
  group.teardown(async () => {
    await apps?.close()
  })
  group.each.timeout(180_000)

  for (const store of ['cookie', 'file', 'redis', 'database', 'dynamodb'] as const) {
    test(`a ${store} store session written by ${OFFICIAL} is read by adonis-satchel, and back`, async ({
      assert,
      cleanup,
    }) => {
      if (store === 'database') {
        await apps.sessionTable()
      }
      const app = new SwitchingApp(apps, store)
      cleanup(() => app.stop())

      await app.runOn('@adonisjs/session')
      assert.equal(await app.visit(), 1)
      assert.equal(await app.visit(), 2)
      const sessionId = await app.sessionId()
      await app.flashNotice('groceries')

      await app.runOn('adonis-satchel')
      assert.equal(await app.notice(), 'saved groceries')
      assert.equal(await app.sessionId(), sessionId)
      assert.equal(await app.visit(), 3)
      await app.flashNotice('books')

      await app.runOn('@adonisjs/session')
      assert.equal(await app.notice(), 'saved books')
      assert.equal(await app.sessionId(), sessionId)
      assert.equal(await app.visit(), 4)
    })
  }

  test('on the memory store, whose data lives in the server process, each package starts afresh after a switch', async ({
    assert,
    cleanup,
  }) => {
    const app = new SwitchingApp(apps, 'memory')
    cleanup(() => app.stop())

    await app.runOn('@adonisjs/session')
    assert.equal(await app.visit(), 1)
    assert.equal(await app.visit(), 2)
    const officialId = await app.sessionId()

    await app.runOn('adonis-satchel')
    assert.equal(await app.visit(), 1, 'a session the store does not hold starts empty')
    const satchelId = await app.sessionId()
    assert.notEqual(satchelId, officialId, 'adonis-satchel never adopts an id its store lacks')
    assert.equal(await app.visit(), 2)

    await app.runOn('@adonisjs/session')
    assert.equal(await app.visit(), 1)
    assert.equal(await app.visit(), 2)
  })
})
