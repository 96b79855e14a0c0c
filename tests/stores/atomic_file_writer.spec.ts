import { test } from '@japa/runner'
import { linkSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { AtomicFileWriter, SPARE_FOLDER } from '../../src/stores/atomic_file_writer.js'
import { temporaryFolder } from '../../tests_helpers/store_matrix.js'

test.group('AtomicFileWriter', (group) => {
  let folder: string
  group.each.setup(() => {
    folder = temporaryFolder('atomic_file_writer')
    return () => rm(folder, { recursive: true, force: true })
  })

  function spares() {
    return readdirSync(join(folder, SPARE_FOLDER))
  }

  test('replace a file with new contents and return the stats of the new file', ({ assert }) => {
    const writer = new AtomicFileWriter(folder)
    writer.prepare()
    const path = join(folder, 'a.txt')
    writer.write(path, 'first')
    const stats = writer.write(path, 'second, longer')
    assert.equal(readFileSync(path, 'utf8'), 'second, longer')
    assert.equal(statSync(path).ino, stats.ino)
    assert.equal(stats.size, Buffer.byteLength('second, longer'))
  })

  test('reuse replaced files instead of creating new ones, once a few are kept', ({ assert }) => {
    const writer = new AtomicFileWriter(folder)
    writer.prepare()
    const path = join(folder, 'a.txt')
    const inodes = new Set<number>()
    for (let round = 0; round < 40; round++) {
      inodes.add(writer.write(path, `round ${round} ${'x'.repeat(round % 7)}`).ino)
    }
    assert.equal(readFileSync(path, 'utf8'), `round 39 ${'x'.repeat(39 % 7)}`)
    assert.isAtMost(inodes.size, 6)
    assert.lengthOf(spares(), 5)
  })

  test('a reused file is cut to the new contents, never keeps a longer tail', ({ assert }) => {
    const writer = new AtomicFileWriter(folder)
    writer.prepare()
    const path = join(folder, 'a.txt')
    for (let round = 0; round < 12; round++) {
      writer.write(path, round % 2 ? 'short' : 'a much longer content than the other')
    }
    writer.write(path, 'short')
    assert.equal(readFileSync(path, 'utf8'), 'short')
  })

  test('never rewrite a file that is still at some path', ({ assert }) => {
    const writer = new AtomicFileWriter(folder)
    writer.prepare()
    const paths = Array.from({ length: 8 }, (_, index) => join(folder, `${index}.txt`))
    const expected = new Map<string, string>()
    for (let round = 0; round < 64; round++) {
      const path = paths[(round * 3) % paths.length]
      writer.write(path, `${path} ${round}`)
      expected.set(path, `${path} ${round}`)
      for (const [known, contents] of expected) {
        assert.equal(readFileSync(known, 'utf8'), contents)
      }
    }
  })

  test('never rewrite a spare that another name links too (another writer kept it as well)', ({
    assert,
  }) => {
    const writer = new AtomicFileWriter(folder)
    writer.prepare()
    const path = join(folder, 'a.txt')
    for (let round = 0; round < 6; round++) {
      writer.write(path, `version ${round}`)
    }
    const counter = (name: string) => Number(name.split('.').pop())
    const [oldest] = spares().sort((left, right) => counter(left) - counter(right))
    const alsoKept = join(folder, 'kept-by-another-writer')
    linkSync(join(folder, SPARE_FOLDER, oldest), alsoKept)
    const before = readFileSync(alsoKept, 'utf8')
    for (let round = 6; round < 20; round++) {
      writer.write(path, `version ${round}`)
      assert.equal(readFileSync(path, 'utf8'), `version ${round}`)
    }
    assert.equal(readFileSync(alsoKept, 'utf8'), before)
  })

  test('write when the spare folder was deleted under it, or a spare was removed', ({ assert }) => {
    const writer = new AtomicFileWriter(folder)
    writer.prepare()
    const path = join(folder, 'a.txt')
    for (let round = 0; round < 10; round++) {
      writer.write(path, `round ${round}`)
    }
    for (const name of spares()) {
      rmSync(join(folder, SPARE_FOLDER, name))
    }
    writer.write(path, 'after the spares went')
    assert.equal(readFileSync(path, 'utf8'), 'after the spares went')
    rmSync(join(folder, SPARE_FOLDER), { recursive: true })
    writer.write(path, 'after the folder went')
    assert.equal(readFileSync(path, 'utf8'), 'after the folder went')
  })

  test('two writers of one folder, as after a restart with the same process id, never collide', ({
    assert,
  }) => {
    const first = new AtomicFileWriter(folder)
    const second = new AtomicFileWriter(folder)
    first.prepare()
    const path = join(folder, 'a.txt')
    for (let round = 0; round < 20; round++) {
      ;(round % 2 ? first : second).write(path, `round ${round}`)
      assert.equal(readFileSync(path, 'utf8'), `round ${round}`)
    }
  })

  test('report a path it cannot write to', ({ assert }) => {
    const writer = new AtomicFileWriter(folder)
    writer.prepare()
    writeFileSync(join(folder, 'not-a-folder'), '')
    assert.throws(() => writer.write(join(folder, 'not-a-folder', 'a.txt'), 'x'), /ENOTDIR/)
    assert.lengthOf(spares(), 0)
  })
})
