import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from '@japa/runner'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

/**
 * The relative modules a source file imports (static, dynamic and type-only
 * `import('…')`), as paths inside src/.
 */
async function importsOf(file: string): Promise<string[]> {
  const source = await readFile(join(SRC, file), 'utf8')
  const specifiers = [...source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map(
    (match) => match[1]
  )
  return specifiers.map((specifier) => join(file, '..', specifier).replaceAll('\\', '/'))
}

test.group('layering', () => {
  test('no store imports the session, its manager, middleware or HTTP glue', async ({ assert }) => {
    const stores = (await readdir(join(SRC, 'stores'))).filter((name) => name.endsWith('.ts'))
    assert.isAbove(stores.length, 5)
    for (const store of stores) {
      const imports = await importsOf(`stores/${store}`)
      for (const forbidden of ['session.js', 'session_manager.js', 'session_middleware.js']) {
        assert.notInclude(imports, forbidden, `src/stores/${store} imports src/${forbidden}`)
      }
    }
  })

  test('types and the stored format import neither the session nor a store', async ({ assert }) => {
    for (const file of ['types.ts', 'payload.ts']) {
      const imports = await importsOf(file)
      assert.notInclude(imports, 'session.js', `src/${file} imports src/session.js`)
      assert.isFalse(
        imports.some((path) => path.startsWith('stores/')),
        `src/${file} imports a store`
      )
    }
  })

  test('the session core imports no concrete store', async ({ assert }) => {
    for (const file of ['session.ts', 'values_store.ts', 'session_middleware.ts']) {
      const imports = await importsOf(file)
      assert.isFalse(
        imports.some((path) => path.startsWith('stores/')),
        `src/${file} imports a store`
      )
    }
  })
})
