import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from '@japa/runner'
import {
  checkRelativeLinks,
  codeBlocks,
  documentationFiles,
  headingAnchors,
  type MarkdownFile,
} from '../tests_helpers/markdown.js'
import { typecheckSnippets, type Snippet } from '../tests_helpers/docs_snippets.js'

const REPO = fileURLToPath(new URL('../', import.meta.url))
const run = promisify(execFile)

test.group('documentation', (group) => {
  let files: MarkdownFile[]
  group.setup(async () => {
    files = await documentationFiles(REPO)
  })

  test('every relative link and anchor in README.md and docs/ resolves', ({ assert }) => {
    const { checked, broken } = checkRelativeLinks(REPO, files)
    console.log(`  ${checked} relative links checked in ${files.length} markdown files`)
    assert.isAbove(checked, 50)
    assert.deepEqual(broken, [])
  })

  test('every typescript code block typechecks against the package', async ({ assert }) => {
    const snippets: Snippet[] = []
    let fragments = 0
    for (const file of files) {
      for (const block of codeBlocks(file.text)) {
        if (!['ts', 'typescript'].includes(block.language)) continue
        if (block.markers.includes('fragment')) fragments++
        else snippets.push({ source: `${file.path}:${block.line}`, code: block.code })
      }
    }
    const errors = await typecheckSnippets(REPO, snippets)
    console.log(`  ${snippets.length} typescript blocks typechecked, ${fragments} marked fragment`)
    assert.isAbove(snippets.length, 30)
    assert.isAtMost(fragments, 3)
    assert.deepEqual(errors, [])
  }).timeout(120_000)

  test('the tarball name in the docs is the one npm pack prints', async ({ assert }) => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: REPO,
    })
    const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('[')))
    const named = new Set<string>()
    for (const file of files) {
      for (const match of file.text.matchAll(/adonis-satchel-\d[\w.-]*?\.tgz/g)) named.add(match[0])
    }
    assert.deepEqual([...named], [filename])
  }).timeout(60_000)

  test('the README starts with the two commands that set everything up', async ({ assert }) => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8')
    const [first] = codeBlocks(readme)
    assert.equal(first.language, 'sh')
    assert.match(first.code, /^npm install && npm run demo\b/)
    assert.match(first.code, /\nnpm test\b/)
    assert.isBelow(first.line, 5)
    assert.isAtMost(readme.split('\n').length, 250)
  })
})

test.group('documentation checks', () => {
  test('headings get the anchors github gives them', ({ assert }) => {
    const anchors = headingAnchors(
      '# Coming from @adonisjs/session\n## `ctx.session` and flash\n```sh\n# not a heading\n```\n## Notes\n## Notes\n'
    )
    assert.deepEqual(
      [...anchors],
      ['coming-from-adonisjssession', 'ctxsession-and-flash', 'notes', 'notes-1']
    )
  })

  test('a missing file, a missing anchor and a link out of the repository are reported', ({
    assert,
  }) => {
    const files = [
      {
        path: 'docs/page.md',
        text: '# Page\n[a](missing.md) [b](../README.md#nowhere) [c](#page) [d](../../x.md)\n`[e](ignored.md)` [f](https://example.com)\n',
      },
    ]
    const { checked, broken } = checkRelativeLinks(REPO, files)
    assert.equal(checked, 4)
    assert.deepEqual(broken, [
      'docs/page.md:2 (missing.md): docs/missing.md does not exist',
      'docs/page.md:2 (../README.md#nowhere): README.md has no heading #nowhere',
      'docs/page.md:2 (../../x.md): ../x.md does not exist',
    ])
  })

  test('a snippet that does not typecheck is reported at its markdown line', async ({ assert }) => {
    const errors = await typecheckSnippets(REPO, [
      {
        source: 'docs/page.md:10',
        code: "import { defineConfig } from 'adonis-satchel'\n\ndefineConfig({ store: 'nope', stores: {} })",
      },
    ])
    assert.lengthOf(errors, 1)
    assert.match(errors[0], /^docs\/page\.md:13: Type '"nope"' is not assignable/)
  }).timeout(120_000)
})
