import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import getPort from 'get-port'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The demo app, started the way `npm run demo` starts it, on a free port.
 */
export interface DemoServer {
  url: string
  /** The folder of the file store's session files. */
  sessionsFolder: string
  /** The SQLite file of the demo's users and remember-me tokens. */
  databaseFile: string
  /** What the server printed, for failure messages. */
  output(): string
  /** Names of the session files the file store holds now. */
  sessionFiles(): Promise<string[]>
  stop(): Promise<void>
}

/**
 * Wait until the server answers, or fail with its output.
 */
async function waitForServer(url: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`The demo exited with code ${child.exitCode}:\n${output()}`)
    }
    try {
      await fetch(url, { redirect: 'manual' })
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  throw new Error(`The demo did not answer on ${url} within 60s:\n${output()}`)
}

/**
 * Start `node bin/demo.js` with its own port, session folder and database.
 */
export async function startDemo(env: Record<string, string> = {}): Promise<DemoServer> {
  const port = await getPort({ host: '127.0.0.1' })
  const folder = await mkdtemp(join(tmpdir(), 'satchel-demo-'))
  const sessionsFolder = join(folder, 'sessions')
  const databaseFile = join(folder, 'demo.sqlite3')
  await mkdir(sessionsFolder)
  let output = ''
  const child = spawn(process.execPath, ['bin/demo.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SESSION_FILE_LOCATION: sessionsFolder,
      DATABASE_FILE: databaseFile,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const url = `http://127.0.0.1:${port}`
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(killer)
    }
    await rm(folder, { recursive: true, force: true })
  }
  try {
    await waitForServer(url, child, () => output)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    url,
    sessionsFolder,
    databaseFile,
    output: () => output,
    sessionFiles: async () => (await readdir(sessionsFolder)).filter((n) => n.endsWith('.txt')),
    stop,
  }
}
