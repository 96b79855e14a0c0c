import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'

/**
 * The CPU the load generator (this process, autocannon) runs on, and the one
 * every benchmark app runs on, when the machine has two or more and `taskset`
 * (util-linux) is there. Pinned, the app never shares its core with the load
 * generator, so one run's ratios move far less with the scheduler's mood.
 */
export const LOAD_CPU = 0
export const APP_CPU = 1

/**
 * Pin a process and all its threads to one CPU; false when it cannot be done.
 */
export function pinProcess(pid: number, cpu: number): boolean {
  if (cpus().length < 2) {
    return false
  }
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
