import type { Socket } from 'node:net'
import type { RedisTraffic } from './types.js'

/**
 * Counts, on the client side, what an ioredis connection sends: socket writes
 * (one per command, one per pipeline) and round trips (writes sent before any
 * answer came back count once: a pipeline, or commands fired together, is one
 * round trip).
 */
export class RoundTripCounter {
  #writes = 0
  #roundTrips = 0
  #waitingForAnswer = false
  #socket: Socket | null = null

  /** Follow an ioredis client, including the sockets of later reconnections. */
  attach(client: {
    stream?: Socket
    status: string
    on(event: string, listener: () => void): void
  }) {
    const watch = () => {
      if (client.stream && client.stream !== this.#socket) {
        this.#watch(client.stream)
      }
    }
    client.on('connect', watch)
    watch()
  }

  #watch(socket: Socket) {
    this.#socket = socket
    const write = socket.write
    const counter = this
    socket.write = function (this: Socket, ...args: any[]) {
      counter.#writes++
      if (!counter.#waitingForAnswer) {
        counter.#roundTrips++
        counter.#waitingForAnswer = true
      }
      return (write as (...parameters: any[]) => boolean).apply(this, args)
    } as Socket['write']
    socket.on('data', () => {
      this.#waitingForAnswer = false
    })
  }

  /** What was sent so far. */
  stats(): RedisTraffic {
    return {
      writes: this.#writes,
      roundTrips: this.#roundTrips,
      localPort: this.#socket?.localPort ?? null,
    }
  }
}
