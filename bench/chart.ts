/**
 * The benchmark chart: an SVG made from bench/results.json with the requests
 * per second of the floor, @adonisjs/session and adonis-satchel per store and
 * route, and the Redis commands per request, headed by the machine and the
 * date. `npm run bench` writes it after a run; `npm run bench:chart` writes it
 * again from the results.json that is there. Fields it does not use are
 * ignored, so results.json may grow.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/** Where the chart goes: the performance page shows it. */
export const CHART_FILE = fileURLToPath(new URL('../docs/images/benchmark.svg', import.meta.url))
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url))

/** The part of results.json the chart reads. */
export interface ChartInput {
  date: string
  mode?: string
  options?: { rounds?: number; durationSeconds?: number }
  machine?: { cpus?: number; cpuModel?: string; node?: string; platform?: string }
  cells: {
    store: string
    route: string
    medianRequestsPerSecond: { floor?: number; official?: number; satchel?: number }
  }[]
  geometricMeanSatchelOverOfficial?: number
  redisTraffic?: Record<string, { scenario: string; commands: number; commandNames?: string[] }[]>
}

const SERIES = [
  { key: 'floor', label: 'no sessions (floor)', color: '#9aa0a6' },
  { key: 'official', label: '@adonisjs/session 7.x', color: '#e8710a' },
  { key: 'satchel', label: 'adonis-satchel', color: '#1a73e8' },
] as const

const WIDTH = 980
const PANEL_WIDTH = 470
const LABEL_WIDTH = 120
const BAR_WIDTH = 270
const BAR_HEIGHT = 9
const HEADER_HEIGHT = 92

/** Text safe inside an SVG element. */
function escapeXml(content: string): string {
  return content.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/** An SVG text element. */
function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x}" y="${y}" ${attributes}>${escapeXml(content)}</text>`
}

/** 33,603 */
function formatNumber(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

/** A panel of one store: a row per route, a bar per app, on a scale shared by all stores. */
function storePanel(input: ChartInput, store: string, scale: number, x: number, y: number) {
  const cells = input.cells.filter((cell) => cell.store === store)
  const parts = [
    text(x, y + 14, `${store} store: requests per second (more is better)`, 'class="panel"'),
  ]
  cells.forEach((cell, row) => {
    const top = y + 28 + row * (SERIES.length * (BAR_HEIGHT + 2) + 10)
    parts.push(text(x + LABEL_WIDTH - 8, top + 19, cell.route, 'class="label" text-anchor="end"'))
    SERIES.forEach((series, index) => {
      const value = cell.medianRequestsPerSecond[series.key]
      if (value === undefined) return
      const barTop = top + index * (BAR_HEIGHT + 2)
      const length = Math.max(1, (value / scale) * BAR_WIDTH)
      parts.push(
        `<rect x="${x + LABEL_WIDTH}" y="${barTop}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" fill="${series.color}"/>`,
        text(x + LABEL_WIDTH + length + 4, barTop + 8, formatNumber(value), 'class="value"')
      )
    })
  })
  return { svg: parts.join('\n'), height: 28 + cells.length * (SERIES.length * 11 + 10) + 8 }
}

/** The Redis panel: commands per request of each kind of request, for both packages. */
function redisPanel(traffic: NonNullable<ChartInput['redisTraffic']>, x: number, y: number) {
  const packages = SERIES.filter((series) => traffic[series.key])
  const scenarios = traffic[packages[0].key].map((entry) => entry.scenario)
  const most = Math.max(
    1,
    ...packages.flatMap((series) => traffic[series.key].map((entry) => entry.commands))
  )
  const unit = (BAR_WIDTH - 110) / most
  const parts = [
    text(x, y + 14, 'redis store: Redis commands per request (fewer is better)', 'class="panel"'),
  ]
  scenarios.forEach((scenario, row) => {
    const top = y + 28 + row * (packages.length * (BAR_HEIGHT + 2) + 10)
    parts.push(text(x + LABEL_WIDTH - 8, top + 14, scenario, 'class="label" text-anchor="end"'))
    packages.forEach((series, index) => {
      const entry = traffic[series.key].find((candidate) => candidate.scenario === scenario)
      if (!entry) return
      const barTop = top + index * (BAR_HEIGHT + 2)
      const length = Math.max(1, entry.commands * unit)
      const names = entry.commandNames?.length ? ` (${entry.commandNames.join(', ')})` : ''
      parts.push(
        `<rect x="${x + LABEL_WIDTH}" y="${barTop}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" fill="${series.color}"/>`,
        text(x + LABEL_WIDTH + length + 4, barTop + 8, `${entry.commands}${names}`, 'class="value"')
      )
    })
  })
  return { svg: parts.join('\n'), height: 28 + scenarios.length * (packages.length * 11 + 10) + 8 }
}

/** The headline figure: how many times the official package's requests per second. */
function summaryPanel(geometricMean: number, x: number, y: number) {
  const svg = [
    text(x, y + 14, 'adonis-satchel ÷ @adonisjs/session', 'class="panel"'),
    text(x, y + 58, `${geometricMean.toFixed(2)}×`, 'class="headline"'),
    text(
      x,
      y + 80,
      'geometric mean of requests per second over every store and route',
      'class="label"'
    ),
  ].join('\n')
  return { svg, height: 96 }
}

/**
 * The chart as an SVG document.
 */
export function renderChart(input: ChartInput): string {
  const stores = [...new Set(input.cells.map((cell) => cell.store))]
  const scale = Math.max(
    1,
    ...input.cells.flatMap((cell) =>
      SERIES.map((series) => cell.medianRequestsPerSecond[series.key] ?? 0)
    )
  )
  const panels: ((x: number, y: number) => { svg: string; height: number })[] = stores.map(
    (store) => (x, y) => storePanel(input, store, scale, x, y)
  )
  if (input.redisTraffic && Object.keys(input.redisTraffic).length > 0) {
    const traffic = input.redisTraffic
    panels.push((x, y) => redisPanel(traffic, x, y))
  }

  if (input.geometricMeanSatchelOverOfficial) {
    panels.push((x, y) => summaryPanel(input.geometricMeanSatchelOverOfficial!, x, y))
  }

  const body: string[] = []
  let y = HEADER_HEIGHT
  for (let index = 0; index < panels.length; index += 2) {
    const row = panels
      .slice(index, index + 2)
      .map((panel, column) => panel(20 + column * PANEL_WIDTH, y))
    body.push(...row.map((panel) => panel.svg))
    y += Math.max(...row.map((panel) => panel.height))
  }

  const machine = input.machine ?? {}
  const measured = [
    `Measured ${input.date.slice(0, 10)}`,
    input.mode ? `${input.mode} mode` : undefined,
    input.options?.rounds ? `median of ${input.options.rounds} interleaved rounds` : undefined,
    machine.cpus ? `${machine.cpus} CPUs (${machine.cpuModel ?? 'unknown model'})` : undefined,
    machine.platform,
    machine.node ? `Node.js ${machine.node}` : undefined,
  ]
    .filter(Boolean)
    .join(', ')
  const legend = SERIES.map(
    (series, index) =>
      `<rect x="${20 + index * 200}" y="62" width="12" height="12" fill="${series.color}"/>` +
      text(38 + index * 200, 72, series.label, 'class="label"')
  )
  const height = y + 24
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:18px;font-weight:bold;fill:#202124}.sub{font-size:12px;fill:#5f6368}.panel{font-size:13px;font-weight:bold;fill:#202124}.label{font-size:11px;fill:#3c4043}.value{font-size:10px;fill:#3c4043}.headline{font-size:40px;font-weight:bold;fill:#1a73e8}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(20, 28, 'What a session costs an AdonisJS app', 'class="title"'),
    text(20, 48, measured, 'class="sub"'),
    ...legend,
    ...body,
    text(
      20,
      height - 8,
      'Source: bench/results.json (npm run bench; npm run bench:chart redraws this chart)',
      'class="sub"'
    ),
    '</svg>',
    '',
  ].join('\n')
}

/**
 * Read a results file and write its chart.
 */
export async function writeChart(resultsFile = RESULTS_FILE, chartFile = CHART_FILE) {
  const input = JSON.parse(await readFile(resultsFile, 'utf8')) as ChartInput
  await writeFile(chartFile, renderChart(input))
  return chartFile
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`Wrote ${await writeChart()}`)
}
