import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { pinProcess } from './cpu_pinning.js'
import type { ChildMessage, ParentMessage, RedisTraffic, StoreName, Variant } from './types.js'

/**
 * Milliseconds a benchmark app may take to boot.
 */
const BOOT_TIMEOUT_MS = 180_000

/**
 * Options of a benchmark app process.
 */
export interface ChildAppOptions {
  variant: Variant
  store: StoreName
  /** Folder of the file store's sessions. */
  fileLocation: string
  /** The CPU to pin the app to (see `cpu_pinning.ts`). */
  cpu?: number
  /** Floor only: run a middleware that spins this long per request (calibration). */
  busyMicroseconds?: number
}

/**
 * A benchmark app running in its own process (see `bench/app.ts`).
 */
export class ChildApp {
  #process: ChildProcess
  #exited: Promise<void>

  /** The base URL the app serves on. */
  readonly url: string

  readonly variant: Variant
  readonly store: StoreName

  private constructor(child: ChildProcess, url: string, options: ChildAppOptions) {
    this.#process = child
    this.url = url
    this.variant = options.variant
    this.store = options.store
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  /** Fork the app and wait until it listens; `BENCH_APP_FLAGS` adds Node.js flags (e.g. --trace-gc). */
  static async start(options: ChildAppOptions): Promise<ChildApp> {
    const extraFlags = process.env.BENCH_APP_FLAGS?.split(' ').filter(Boolean) ?? []
    const execArgv = ['--import=ts-node-maintained/register/esm', ...extraFlags]
    const child = fork(
      fileURLToPath(new URL('./app.ts', import.meta.url)),
      [
        options.variant,
        options.store,
        options.fileLocation,
        ...(options.busyMicroseconds === undefined ? [] : [String(options.busyMicroseconds)]),
      ],
      { execArgv, env: { ...process.env, NODE_ENV: 'production' }, stdio: 'inherit' }
    )
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill()
        reject(new Error(`The ${options.variant} app (${options.store}) did not boot in time`))
      }, BOOT_TIMEOUT_MS)
      child.on('message', function onMessage(message: ChildMessage) {
        if (message.type === 'ready' || message.type === 'failed') {
          clearTimeout(timer)
          child.off('message', onMessage)
          if (message.type === 'ready') resolve(message.url)
          else
            reject(
              new Error(
                `The ${options.variant} app (${options.store}) failed to boot:\n${message.error}`
              )
            )
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`The ${options.variant} app (${options.store}) exited with code ${code}`))
      })
    })
    if (options.cpu !== undefined) {
      pinProcess(child.pid!, options.cpu)
    }
    return new ChildApp(child, url, options)
  }

  /** The process id of the app. */
  get pid(): number | undefined {
    return this.#process.pid
  }

  /** Send a message and wait for the app's answer of the given type. */
  #ask<T extends ChildMessage['type']>(
    message: ParentMessage,
    answer: T
  ): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve) => {
      this.#process.on('message', function onMessage(this: ChildProcess, reply: ChildMessage) {
        if (reply.type === answer) {
          this.off('message', onMessage)
          resolve(reply as Extract<ChildMessage, { type: T }>)
        }
      })
      this.#process.send(message)
    })
  }

  /** The Redis traffic the app sent so far. */
  async redisTraffic(): Promise<RedisTraffic> {
    const { writes, roundTrips, localPort } = await this.#ask(
      { type: 'redis-stats' },
      'redis-stats'
    )
    return { writes, roundTrips, localPort }
  }

  /** CPU time (user + system, microseconds) the app process used so far. */
  async cpuTime(): Promise<number> {
    return (await this.#ask({ type: 'cpu-usage' }, 'cpu-usage')).microseconds
  }

  /** Start the app's CPU profiler. */
  async startProfiling(): Promise<void> {
    await this.#ask({ type: 'profile-start' }, 'profile-started')
  }

  /** Stop the app's CPU profiler and write the `.cpuprofile` to `path`. */
  async stopProfiling(path: string): Promise<void> {
    await this.#ask({ type: 'profile-stop', path }, 'profile-written')
  }

  /** Ask the app to close and exit, then wait. */
  async stop(): Promise<void> {
    if (this.#process.exitCode === null && this.#process.connected) {
      this.#process.send({ type: 'exit' })
    }
    const timer = setTimeout(() => this.#process.kill(), 10_000)
    await this.#exited
    clearTimeout(timer)
  }
}
