import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * A node of a V8 `.cpuprofile`.
 */
interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

/**
 * The JSON of a V8 `.cpuprofile` (written by `node --cpu-prof`).
 */
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/**
 * Time spent in one function: in its own code (self) and with its callees (total).
 */
export interface FunctionTime {
  name: string
  location: string
  selfMs: number
  selfPercent: number
  totalMs: number
  totalPercent: number
}

/**
 * Where a function lives, shortened to the package (or repository) path.
 */
function shortLocation(url: string, lineNumber: number): string {
  if (!url) return ''
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  const repository = fileURLToPath(new URL('../', import.meta.url))
  const modules = path.lastIndexOf('/node_modules/')
  const short =
    modules !== -1
      ? path.slice(modules + '/node_modules/'.length)
      : path.startsWith(repository)
        ? path.slice(repository.length)
        : path
  return `${short}:${lineNumber + 1}`
}

/**
 * Self and total time per function over one or more CPU profiles, most self
 * time first. Total time counts a function once per sampled stack (recursion
 * is not counted twice).
 */
export async function summariseProfiles(paths: string[]): Promise<FunctionTime[]> {
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let all = 0
  for (const path of paths) {
    all += addProfile(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, self, total)
  }
  return [...total.keys()]
    .map((key) => {
      const [name, location] = key.split('\u0000')
      const selfUs = self.get(key) ?? 0
      const totalUs = total.get(key) ?? 0
      return {
        name,
        location,
        selfMs: selfUs / 1000,
        selfPercent: (100 * selfUs) / all,
        totalMs: totalUs / 1000,
        totalPercent: (100 * totalUs) / all,
      }
    })
    .sort((a, b) => b.selfMs - a.selfMs)
}

/**
 * Add the sampled time of one profile to the self and total maps (microseconds
 * by function); returns the profile's sampled time.
 */
function addProfile(profile: CpuProfile, self: Map<string, number>, total: Map<string, number>) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id)
  }
  const keyOf = (node: ProfileNode) =>
    `${node.callFrame.functionName || '(anonymous)'}\u0000${shortLocation(node.callFrame.url, node.callFrame.lineNumber)}`
  let sampled = 0
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0
    sampled += delta
    const key = keyOf(byId.get(id)!)
    self.set(key, (self.get(key) ?? 0) + delta)
    const seen = new Set<string>()
    for (let current: number | undefined = id; current !== undefined;) {
      const frame = keyOf(byId.get(current)!)
      if (!seen.has(frame)) {
        seen.add(frame)
        total.set(frame, (total.get(frame) ?? 0) + delta)
      }
      current = parentOf.get(current)
    }
  })
  return sampled
}

/**
 * True for a function of adonis-satchel itself (src/, providers/).
 */
export function isOwnCode(time: FunctionTime): boolean {
  return /^(src|providers|services)\//.test(time.location)
}

/**
 * A markdown table of function times.
 */
export function profileTable(times: FunctionTime[]): string {
  const lines = ['| function | where | self % | total % |', '|---|---|---:|---:|']
  for (const time of times) {
    lines.push(
      `| ${time.name} | ${time.location} | ${time.selfPercent.toFixed(1)} | ${time.totalPercent.toFixed(1)} |`
    )
  }
  return lines.join('\n')
}
