import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import ts from 'typescript'

/** A TypeScript block of the docs: where it is (`docs/page.md:12`) and its code. */
export interface Snippet {
  source: string
  code: string
}

/**
 * The small app that provides what the snippets import but do not define (env, the user
 * model, the route registry an AdonisJS 7 app generates).
 */
const FIXTURE_APP = 'tests/fixtures/docs_app'

/** The folders AdonisJS apps alias with `#name/*` in their package.json `imports`. */
const APP_ALIASES: Record<string, string> = {
  '#controllers': 'app/controllers',
  '#models': 'app/models',
  '#validators': 'app/validators',
  '#middleware': 'app/middleware',
  '#services': 'app/services',
  '#exceptions': 'app/exceptions',
  '#start': 'start',
  '#config': 'config',
}

/**
 * The file a snippet stands for, from a first line such as
 * `// app/controllers/contact_controller.ts`, or undefined.
 */
function namedPath(code: string): string | undefined {
  return /^\/\/ ([\w./-]+\.ts)\s*$/m.exec(code.split('\n')[0])?.[1]
}

/**
 * TypeScript path mappings: each public subpath of the package to its source
 * (from `exports` in package.json), app aliases to the snippets that define
 * those files (unless the fixture app has them), then to the fixture app.
 */
async function pathMappings(repo: string, files: { path: string; named?: string }[]) {
  const packageJson = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8'))
  const paths: Record<string, string[]> = {}
  for (const [subpath, target] of Object.entries<string>(packageJson.exports)) {
    const source = target.replace(/^\.\/build\//, '').replace(/\.js$/, '.ts')
    paths[join(packageJson.name, subpath)] = [join(repo, source)]
  }
  for (const file of files) {
    const alias = Object.entries(APP_ALIASES).find(([, folder]) =>
      file.named?.startsWith(`${folder}/`)
    )
    const fixture = alias && join(repo, FIXTURE_APP, file.named!)
    if (alias && !existsSync(fixture!)) {
      const name = `${alias[0]}/${file.named!.slice(alias[1].length + 1).replace(/\.ts$/, '')}`
      paths[name] ??= [file.path]
    }
  }
  for (const [alias, folder] of Object.entries(APP_ALIASES)) {
    paths[`${alias}/*`] = [join(repo, FIXTURE_APP, folder, '*.ts')]
  }
  return paths
}

/**
 * Write every snippet as a module of its own under tmp/docs_snippets (at the
 * path its first comment names, when it names one), then typecheck them all
 * in one program with the project's compiler options. Returns the errors as
 * `docs/page.md:line: message`, mapped back to the markdown lines.
 */
export async function typecheckSnippets(repo: string, snippets: Snippet[]): Promise<string[]> {
  const root = join(repo, 'tmp/docs_snippets')
  await rm(root, { recursive: true, force: true })
  const files = snippets.map((snippet, index) => {
    const named = namedPath(snippet.code)
    const path = join(root, String(index), named ?? 'snippet.ts')
    return { ...snippet, path, named }
  })
  for (const file of files) {
    await mkdir(dirname(file.path), { recursive: true })
    await writeFile(file.path, `${file.code}\nexport {}\n`)
  }

  const config = ts.getParsedCommandLineOfConfigFile(
    join(repo, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
      },
    }
  )!
  const program = ts.createProgram({
    rootNames: [
      join(repo, FIXTURE_APP, 'app_environment.ts'),
      join(repo, FIXTURE_APP, 'types/luxon.d.ts'),
      join(repo, FIXTURE_APP, 'types/routes.d.ts'),
      ...files.map((file) => file.path),
    ],
    options: {
      ...config.options,
      noEmit: true,
      declaration: false,
      noUnusedLocals: false,
      noUnusedParameters: false,
      paths: await pathMappings(repo, files),
    },
  })

  const byPath = new Map(files.map((file) => [file.path, file]))
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')
    const file = diagnostic.file && byPath.get(diagnostic.file.fileName)
    if (!file || diagnostic.start === undefined) {
      const where = diagnostic.file ? relative(repo, diagnostic.file.fileName) : 'program'
      return `${where}: ${message}`
    }
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start)
    const [page, first] = file.source.split(':')
    return `${page}:${Number(first) + line + 1}: ${message}`
  })
}
