import { test } from '@japa/runner'
import type { Router } from '@adonisjs/core/http'
import vine from '@vinejs/vine'
import { bootSecurityApp } from './helpers.js'

/**
 * Field names that are members of `Object.prototype`.
 */
const PROTOTYPE_MEMBER_NAMES = ['toString', 'valueOf', 'constructor', '__proto__', 'hasOwnProperty']

/**
 * A form whose one field, `name`, must hold at least five characters; the
 * page renders the field's errors with `@inputError` and its old value.
 */
const FIELD_TEMPLATE = [
  '@inputError(field)',
  'errors=[{{ $messages.join("|") }}]',
  '@end',
  'old=[{{ old(field, "") }}]',
].join('\n')

let templateRegistered = false

/**
 * Register the form page template once.
 */
async function registerFieldTemplate() {
  const { default: edge } = await import('edge.js')
  if (!templateRegistered) {
    edge.registerTemplate('security_field_form', { template: FIELD_TEMPLATE })
    templateRegistered = true
  }
}

/**
 * POST /field/:name validates a one-field form named `name`; GET /field/:name
 * renders its page.
 */
function fieldRoutes(router: Router) {
  router.post('/field/:name', async ({ request, params }) => {
    const validator = vine.compile(vine.object({ [params.name]: vine.string().minLength(5) }))
    await validator.validate(request.all())
    return { ok: true }
  })
  router.get('/field/:name', ({ view, params }: any) =>
    view.render('security_field_form', { field: params.name })
  )
}

test.group('security | form input', () => {
  for (const name of PROTOTYPE_MEMBER_NAMES) {
    test(`a failed form with a field named "${name}" redirects and renders its errors`, async ({
      assert,
      cleanup,
    }) => {
      const app = await bootSecurityApp({
        store: 'memory',
        withEdge: true,
        withExceptionHandler: true,
        routes: fieldRoutes,
      })
      cleanup(() => app.close())
      await registerFieldTemplate()
      const client = app.client()
      const page = `/field/${encodeURIComponent(name)}`
      const failed = await client.request(page, {
        method: 'POST',
        body: JSON.stringify({ [name]: 'abc' }),
        headers: {
          'accept': 'text/html',
          'content-type': 'application/json',
          'referer': `${app.url}${page}`,
        },
      })
      assert.equal(failed.status, 302, failed.text.slice(0, 200))
      const rendered = await client.get(page)
      assert.equal(rendered.status, 200, rendered.text.slice(0, 200))
      assert.match(
        rendered.text,
        /errors=\[The .+ field must (have at least 5 characters|be a string)\]/
      )
      // The body parser drops a "__proto__" key from JSON, so it has no old value.
      assert.include(rendered.text, name === '__proto__' ? 'old=[]' : 'old=[abc]')
    })
  }
})
