/**
 * A router middleware that keeps the CPU busy for a set time, then calls the
 * handler: the calibration apps of the benchmark (`bench/calibration.ts`) use
 * it to show how a known cost per request moves the ratios to the floor.
 */
export default class BusyMiddleware {
  /** How long each request spins, in microseconds (set by `bench/app.ts`). */
  static microseconds = 0

  /** Spin, then run the handler. */
  async handle(_ctx: unknown, next: () => Promise<unknown>) {
    const microseconds = BusyMiddleware.microseconds
    if (microseconds > 0) {
      const until = process.hrtime.bigint() + BigInt(Math.round(microseconds * 1000))
      while (process.hrtime.bigint() < until) {
        // busy on purpose: this is the cost being calibrated
      }
    }
    return next()
  }
}
