import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import getPort from 'get-port'
import { createSessionTable, startDynamoDB, type LocalDynamoDB } from './dynalite.js'
import { appFiles, type AppSessionPackage } from './packed_app_files.js'

const REPO = fileURLToPath(new URL('../', import.meta.url))
const run = promisify(execFile)

/**
 * The environment of child processes, as a clean shell has it: without the
 * `npm_*` variables of `npm test` (`npm_config_local_prefix` would point npm
 * at this repo) and without c8's coverage variable (the build, npm and the
 * app are not what the coverage report measures).
 */
export const CHILD_ENV: Record<string, string> = {}
for (const [key, value] of Object.entries(process.env)) {
  if (value !== undefined && !/^npm_/i.test(key) && key !== 'NODE_V8_COVERAGE') {
    CHILD_ENV[key] = value
  }
}

/** The packed package: its tarball and the files `npm pack` put in it. */
export interface PackedTarball {
  tarball: string
  files: string[]
}

let packing: Promise<PackedTarball> | undefined

/**
 * `npm pack` the package once per test run (its prepare script builds it)
 * into a temporary folder removed when the process exits.
 */
export function packedTarball(): Promise<PackedTarball> {
  packing ??= (async () => {
    const folder = await mkdtemp(join(tmpdir(), 'satchel-tarball-'))
    process.once('exit', () => rmSync(folder, { recursive: true, force: true }))
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', folder], {
      cwd: REPO,
      env: CHILD_ENV,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error) => {
      throw new Error(
        `"npm pack" (which builds the package) failed:\n${error.stdout}${error.stderr}`
      )
    })
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('[')))
    return {
      tarball: join(folder, packed.filename),
      files: packed.files.map((file: { path: string }) => file.path),
    }
  })()
  return packing
}

/** A running server of a fresh app. */
export interface AppServer {
  url: string
  output(): string
  stop(): Promise<void>
}

/**
 * Two fresh AdonisJS apps of the running major in one temporary folder, next
 * to a node_modules that links the repo's (peers and tools: @adonisjs/core,
 * lucid, redis, the official @adonisjs/session, typescript, ts-node): one with
 * adonis-satchel installed from its tarball, one with the official package.
 * They share the key, the cookie, Redis, the session files, the SQLite
 * database and a local DynamoDB, as one app before and after switching
 * packages.
 */
export class PackedApps {
  readonly folders: Record<AppSessionPackage, string>
  readonly env: Record<string, string>
  #tableReady?: Promise<void>

  constructor(
    readonly root: string,
    readonly dynamodb: LocalDynamoDB
  ) {
    this.folders = {
      'adonis-satchel': join(root, 'satchel-app'),
      '@adonisjs/session': join(root, 'official-app'),
    }
    this.env = {
      ...CHILD_ENV,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: '3333',
      APP_KEY: randomBytes(24).toString('base64url'),
      SESSION_DRIVER: 'cookie',
      SESSION_FILES: join(root, 'storage/sessions'),
      DB_FILE: join(root, 'storage/db.sqlite3'),
      DYNAMODB_ENDPOINT: dynamodb.endpoint,
      REDIS_HOST: process.env.REDIS_HOST ?? '127.0.0.1',
      REDIS_PORT: process.env.REDIS_PORT ?? '6379',
    }
  }

  /**
   * Write both apps, install the tarball into the adonis-satchel app with its
   * own dependencies, and create the DynamoDB table both stores use.
   */
  static async create(): Promise<PackedApps> {
    const { tarball } = await packedTarball()
    const root = await mkdtemp(join(tmpdir(), 'satchel-apps-'))
    const apps = new PackedApps(root, await startDynamoDB())
    await createSessionTable(apps.dynamodb.client, 'Session')
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir')
    await mkdir(join(root, 'storage/sessions'), { recursive: true })
    for (const source of Object.keys(apps.folders) as AppSessionPackage[]) {
      for (const [path, contents] of Object.entries(appFiles(source))) {
        await mkdir(dirname(join(apps.folders[source], path)), { recursive: true })
        await writeFile(join(apps.folders[source], path), contents)
      }
    }
    await run(
      'npm',
      [
        'install',
        `file:${tarball}`,
        '--prefer-offline',
        '--legacy-peer-deps',
        '--no-audit',
        '--no-fund',
      ],
      { cwd: apps.folders['adonis-satchel'], env: CHILD_ENV }
    )
    return apps
  }

  /** Type-check the adonis-satchel app against the installed package. */
  async typecheck(): Promise<{ exitCode: number; output: string }> {
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc')
    try {
      await run(process.execPath, [tsc, '--noEmit'], {
        cwd: this.folders['adonis-satchel'],
        env: CHILD_ENV,
      })
      return { exitCode: 0, output: '' }
    } catch (error: any) {
      return { exitCode: error.code ?? 1, output: `${error.stdout}${error.stderr}` }
    }
  }

  /**
   * Run `node ace <args>` in an app; resolves with the exit code and output.
   */
  async ace(
    args: string[],
    env: Record<string, string> = {},
    source: AppSessionPackage = 'adonis-satchel'
  ) {
    try {
      const { stdout, stderr } = await run(process.execPath, ['ace.js', ...args], {
        cwd: this.folders[source],
        env: { ...this.env, ...env },
      })
      return { exitCode: 0, output: `${stdout}${stderr}` }
    } catch (error: any) {
      return { exitCode: error.code as number, output: `${error.stdout}${error.stderr}` }
    }
  }

  /**
   * Create the sessions table in the shared SQLite database once, through the
   * adonis-satchel app's `make:session-table` and `migration:run`.
   */
  sessionTable(): Promise<void> {
    this.#tableReady ??= (async () => {
      for (const args of [['make:session-table'], ['migration:run']]) {
        const { exitCode, output } = await this.ace(args)
        if (exitCode !== 0) {
          throw new Error(`"node ace ${args.join(' ')}" failed (${exitCode}):\n${output}`)
        }
      }
    })()
    return this.#tableReady
  }

  /**
   * A server of an app (`node bin/server.ts` through ts-node, as `node ace
   * serve` runs it), ready once it answers /health.
   */
  async start(source: AppSessionPackage, env: Record<string, string>): Promise<AppServer> {
    const port = await getPort({ host: '127.0.0.1' })
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import=ts-node-maintained/register/esm', 'bin/server.ts'],
      {
        cwd: this.folders[source],
        env: { ...this.env, ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    )
    let output = ''
    child.stdout!.on('data', (chunk) => (output += chunk))
    child.stderr!.on('data', (chunk) => (output += chunk))
    const url = `http://127.0.0.1:${port}`
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await once(child, 'exit')
        clearTimeout(timer)
      }
    }
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`The ${source} app server exited with code ${child.exitCode}:\n${output}`)
      }
      const ready = await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false
      )
      if (ready) {
        return { url, stop, output: () => output }
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 100))
    }
    await stop()
    throw new Error(`The ${source} app server did not answer within 30s:\n${output}`)
  }

  /** Stop the local DynamoDB and remove the apps. */
  async close() {
    await this.dynamodb.close()
    await rm(this.root, { recursive: true, force: true })
  }
}
