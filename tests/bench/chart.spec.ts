import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { CHART_FILE, renderChart, type ChartInput } from '../../bench/chart.js'

const RESULTS = new URL('../../bench/results.json', import.meta.url)

/** A results file with one cell, as small as the chart accepts. */
function oneCell(extra: Record<string, unknown> = {}): ChartInput {
  return {
    date: '2026-12-01T10:00:00.000Z',
    cells: [
      {
        store: 'memory',
        route: 'read 1 key',
        medianRequestsPerSecond: { floor: 30000, official: 6000, satchel: 20000 },
      },
    ],
    ...extra,
  }
}

test.group('benchmark chart', () => {
  test('shows every store and route of results.json with its machine and date', async ({
    assert,
  }) => {
    const results = JSON.parse(await readFile(RESULTS, 'utf8'))
    const svg = renderChart(results)
    for (const cell of results.cells) {
      assert.include(svg, `${cell.store} store: requests per second`)
      assert.include(svg, `>${cell.route}<`)
      assert.include(
        svg,
        `>${Math.round(cell.medianRequestsPerSecond.satchel).toLocaleString('en-US')}<`
      )
    }
    assert.include(svg, `Measured ${results.date.slice(0, 10)}`)
    assert.include(svg, results.machine.cpuModel)
    assert.include(svg, 'Redis commands per request')
  })

  test('the committed chart is the one results.json draws', async ({ assert }) => {
    const results = JSON.parse(await readFile(RESULTS, 'utf8'))
    assert.equal(await readFile(CHART_FILE, 'utf8'), renderChart(results))
  })

  test('ignores fields it does not know and draws without redis traffic', ({ assert }) => {
    const svg = renderChart(oneCell({ futureField: { anything: [1, 2] }, machine: { cpus: 4 } }))
    assert.include(svg, 'memory store: requests per second')
    assert.include(svg, '>20,000<')
    assert.notInclude(svg, 'Redis commands')
    assert.match(svg, /^<svg [^>]*width="980"/)
  })

  test('escapes text that would break the svg', ({ assert }) => {
    const input = oneCell()
    input.cells[0].route = '<script>&"'
    const svg = renderChart(input)
    assert.include(svg, '&#60;script&#62;&#38;&#34;')
    assert.notInclude(svg, '<script>')
  })
})
