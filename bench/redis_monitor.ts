import { Redis } from 'ioredis'
import { redisSettings } from './settings.js'

/**
 * Watches the commands Redis receives (`MONITOR`, on a connection of its own)
 * and keeps, per client port, the names of the commands in order, so the
 * benchmark counts exactly what one app sent.
 */
export class RedisMonitor {
  #client: Redis
  #monitor: Redis | undefined
  #commandsByPort = new Map<number, string[]>()

  constructor() {
    this.#client = new Redis({ ...redisSettings(), lazyConnect: true, maxRetriesPerRequest: 1 })
  }

  /** True when Redis answers PING. */
  static async isAvailable(): Promise<boolean> {
    const client = new Redis({
      ...redisSettings(),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    client.on('error', () => {})
    try {
      await client.connect()
      return (await client.ping()) === 'PONG'
    } catch {
      return false
    } finally {
      client.disconnect()
    }
  }

  /** Start watching. */
  async start() {
    await this.#client.connect()
    this.#monitor = await this.#client.monitor()
    this.#monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const port = Number(source.slice(source.lastIndexOf(':') + 1))
      const commands = this.#commandsByPort.get(port) ?? []
      commands.push(String(args[0]).toUpperCase())
      this.#commandsByPort.set(port, commands)
    })
  }

  /** Every command seen from a client port so far. */
  commandsFrom(port: number): string[] {
    return [...(this.#commandsByPort.get(port) ?? [])]
  }

  /** A round trip through MONITOR, so commands sent before it have been seen. */
  async settle() {
    const probe = new Redis({ ...redisSettings(), lazyConnect: true })
    await probe.connect()
    const port = (probe as unknown as { stream: { localPort: number } }).stream.localPort
    await probe.ping()
    const deadline = Date.now() + 2000
    while (!this.#commandsByPort.get(port)?.includes('PING') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    probe.disconnect()
  }

  /** Stop watching. */
  stop() {
    this.#monitor?.disconnect()
    this.#client.disconnect()
  }

  /** Delete every key that holds one of these session ids (data, and any key the store adds). */
  static async deleteSessions(sessionIds: string[]) {
    if (!sessionIds.length) return
    const client = new Redis({ ...redisSettings(), lazyConnect: true })
    await client.connect()
    const keys = new Set<string>()
    for (const id of sessionIds) {
      let cursor = '0'
      do {
        const [next, found] = await client.scan(cursor, 'MATCH', `*${id}*`, 'COUNT', 1000)
        cursor = next
        found.forEach((key) => keys.add(key))
      } while (cursor !== '0')
    }
    if (keys.size) await client.del(...keys)
    client.disconnect()
  }
}
