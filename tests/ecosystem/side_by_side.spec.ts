import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'
import { typecheckSnippets } from '../../tests_helpers/docs_snippets.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

/**
 * A file of an app that switched: it imports adonis-satchel by its package
 * name, uses @adonisjs/shield, @adonisjs/inertia and @adonisjs/auth, and reads
 * `ctx.session` as adonis-satchel's `Session` (an API only it has).
 */
const APP_FILE = `// app/controllers/profile_controller.ts
import '@adonisjs/shield/shield_middleware'
import '@adonisjs/inertia/inertia_middleware'
import '@adonisjs/auth/initialize_auth_middleware'
import type { HttpContext } from '@adonisjs/core/http'
import { Session } from 'adonis-satchel'
import sessions from 'adonis-satchel/services/main'

export default class ProfileController {
  async show({ session, request, auth, inertia }: HttpContext) {
    const ours: Session = session
    await auth.use('web').check()
    ours.tagOnCommit(auth.use('web').user?.id ?? null)
    const devices = await sessions.tagged(1)
    return inertia.render('profile' as never, { csrf: request.csrfToken, devices: devices.length } as never)
  }
}
`

test.group('Ecosystem | adonis-satchel beside the official package in node_modules', () => {
  test('shield and inertia brought @adonisjs/session into node_modules', ({ assert }) => {
    assert.isTrue(existsSync(`${REPO}node_modules/@adonisjs/session/package.json`))
  })

  test('an app importing adonis-satchel with shield, inertia and auth type-checks', async ({
    assert,
  }) => {
    const errors = await typecheckSnippets(REPO, [{ source: 'app.ts:0', code: APP_FILE }])
    assert.deepEqual(errors, [])
  }).timeout(120_000)
})
