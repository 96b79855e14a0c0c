import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)
const HOST = '127.0.0.1'

/**
 * The Redis the connection tests use (REDIS_HOST / REDIS_PORT, default
 * 127.0.0.1:6379).
 */
export const sharedRedis = {
  host: process.env.REDIS_HOST ?? HOST,
  port: Number(process.env.REDIS_PORT ?? 6379),
}

/**
 * True when `redis-server` and `redis-cli` are installed, so tests can start
 * private instances.
 */
export const canStartRedisServers =
  spawnSync('redis-server', ['--version']).status === 0 &&
  spawnSync('redis-cli', ['--version']).status === 0

/**
 * True when a Redis answers PING on host:port within `timeoutMs`.
 */
export async function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (answer: boolean) => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')))
    socket.connect(port, host, () => socket.write('PING\r\n'))
  })
}

/**
 * True when nothing listens on the loopback port.
 */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/**
 * A random free loopback port whose cluster bus port (port + 10000) is free too.
 */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000)
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) {
      return port
    }
  }
  throw new Error('Could not find a free loopback port for redis-server')
}

/**
 * A redis-server process started by a test.
 */
export interface PrivateRedisServer {
  host: string
  port: number
  pid: number
  /** Stop this process (by its pid) and wait until it has exited. */
  stop(): Promise<void>
}

/**
 * Stop a child process by its pid and wait for it to exit.
 */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  process.kill(child.pid!, 'SIGKILL')
  await exited
}

/**
 * Start a redis-server on a free loopback port (or the given one) with no
 * persistence, and wait until it answers PING. `args` are extra server flags.
 */
export async function startRedisServer(
  options: { port?: number; args?: string[]; dir?: string } = {}
): Promise<PrivateRedisServer> {
  const port = options.port ?? (await freePort())
  const dir = options.dir ?? tmpdir()
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const cleanupOnExit = () => child.pid && child.exitCode === null && child.kill('SIGKILL')
  process.once('exit', cleanupOnExit)

  const deadline = Date.now() + 5000
  while (!(await redisAnswers(HOST, port, 200))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopProcess(child)
      throw new Error(`redis-server did not start on port ${port}:\n${output}`)
    }
    await sleep(20)
  }
  return {
    host: HOST,
    port,
    pid: child.pid!,
    async stop() {
      process.removeListener('exit', cleanupOnExit)
      await stopProcess(child)
    },
  }
}

/**
 * A Redis Cluster of private redis-server processes.
 */
export interface PrivateRedisCluster {
  nodes: { host: string; port: number }[]
  /** Stop every node by pid and remove their folders. */
  stop(): Promise<void>
}

/**
 * Start `size` cluster-enabled redis-servers, join them with
 * `redis-cli --cluster create` (no replicas) and wait until every node
 * reports `cluster_state:ok`.
 */
export async function startRedisCluster(size = 3): Promise<PrivateRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'satchel-redis-cluster-'))
  const servers: PrivateRedisServer[] = []
  const stop = async () => {
    for (const server of servers) {
      await server.stop()
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (let index = 0; index < size; index++) {
      servers.push(
        await startRedisServer({
          dir,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${index}.conf`],
        })
      )
    }
    const addresses = servers.map((server) => `${HOST}:${server.port}`)
    await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    await waitForClusterState(servers)
  } catch (error) {
    await stop()
    throw error
  }
  return { nodes: servers.map(({ host, port }) => ({ host, port })), stop }
}

/**
 * Wait until every node says the cluster is ok.
 */
async function waitForClusterState(servers: PrivateRedisServer[]) {
  const deadline = Date.now() + 10_000
  for (const server of servers) {
    while (true) {
      const { stdout } = await run('redis-cli', ['-p', String(server.port), 'cluster', 'info'])
      if (stdout.includes('cluster_state:ok')) {
        break
      }
      if (Date.now() > deadline) {
        throw new Error(`Redis cluster node ${server.port} is not ok:\n${stdout}`)
      }
      await sleep(50)
    }
  }
}
