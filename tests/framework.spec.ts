import { readFileSync } from 'node:fs'
import { test } from '@japa/runner'
import * as http from '@adonisjs/core/http'
import {
  adonisMajor,
  flashesLegacyErrorsKey,
  ResponseClass,
  validationErrorsAsHtml,
} from '../src/framework.js'
import { ResponseFactory } from '@adonisjs/core/factories/http'

/** The major of the installed @adonisjs/core, read from its package.json. */
const installedMajor = Number(
  JSON.parse(
    readFileSync(new URL('../node_modules/@adonisjs/core/package.json', import.meta.url), 'utf8')
  ).version.split('.')[0]
)

test.group('framework differences', () => {
  test('the major is the one of the installed @adonisjs/core', ({ assert }) => {
    assert.equal(adonisMajor, installedMajor)
  })

  test('the response class is the class of the responses the framework makes', ({ assert }) => {
    assert.instanceOf(new ResponseFactory().create(), ResponseClass as unknown as new () => unknown)
    const name = adonisMajor === 7 ? 'HttpResponse' : 'Response'
    assert.strictEqual(ResponseClass, (http as Record<string, unknown>)[name])
  })

  test('the legacy errors flash key is kept on adonisjs 6 only', ({ assert }) => {
    assert.equal(flashesLegacyErrorsKey, adonisMajor === 6)
  })

  test('validation messages render as the core does: escaped on adonisjs 7 only', ({ assert }) => {
    const html = validationErrorsAsHtml([
      { field: 'name', message: 'Use <b>letters</b>' },
      { field: 'a&b', message: 'Required' },
    ])
    assert.equal(
      html,
      adonisMajor === 7
        ? 'name - Use &lt;b&gt;letters&lt;/b&gt;<br />a&amp;b - Required'
        : 'name - Use <b>letters</b><br />a&b - Required'
    )
  })
})
