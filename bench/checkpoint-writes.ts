/**
 * What a round's checkpoint writes for the fmnist-cnn-dir0.5 recipe's buffers (a replay ring of 40,000
 * Fashion-MNIST-sized rows that takes 1,280 new rows a round, beside a full 60,000-row procedural pool): the
 * segment files of buffer-files.ts against the whole ring in one file, as checkpoints wrote it before
 * session 38. Rounds 2-11 of a full ring; each write fsyncs, as a checkpoint's does. Median seconds and
 * megabytes a round, into bench/results/checkpoint-writes.json.
 *
 *   npm run bench:checkpoint [-- --dir <a folder on the disk to measure>]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ReplayBuffer } from '../coordinator/engine/replay.js';
import { BufferFiles } from '../coordinator/engine/buffer-files.js';
import { writeTensorFile } from '../shared/fs/tensor-file.js';
import { seededRandom } from '../shared/random.js';
import { median } from './stats.js';

const FEATURES = 784;
const CLASSES = 10;
const CAPACITY = 40_000;
const PER_ROUND = 1_280;
const ROUNDS = 10;
const at = process.argv.indexOf('--dir');
const dir = mkdtempSync(join(at > 0 ? process.argv[at + 1] : tmpdir(), 'distillery-checkpoint-writes-'));
const rng = seededRandom(1);
const fresh = (rows: number, width: number) => new Float32Array(rows * width).map(() => rng.next());
const replay = new ReplayBuffer(CAPACITY, FEATURES, CLASSES);
replay.push(fresh(CAPACITY, FEATURES), fresh(CAPACITY, CLASSES));
const pool = new ReplayBuffer(60_000, FEATURES, CLASSES);
pool.push(fresh(60_000, FEATURES), fresh(60_000, CLASSES));

function measure(write: (round: number) => number): { seconds: number; megabytes: number } {
  const seconds: number[] = [];
  const bytes: number[] = [];
  write(1); // the first checkpoint writes everything either way
  for (let round = 2; round < 2 + ROUNDS; round++) {
    replay.push(fresh(PER_ROUND, FEATURES), fresh(PER_ROUND, CLASSES));
    const t0 = performance.now();
    bytes.push(write(round));
    seconds.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(seconds), megabytes: median(bytes) / 1e6 };
}

const floats = (b: ReplayBuffer) => b.length * (b.features + b.numClasses);
try {
  const whole = measure((round) => {
    const s = replay.snapshot();
    writeTensorFile(join(dir, `whole-${round}.bin`), [
      { name: 'replay/x', shape: [s.x.length], values: s.x },
      { name: 'replay/targets', shape: [s.targets.length], values: s.targets },
    ]);
    rmSync(join(dir, `whole-${round - 1}.bin`), { force: true });
    return floats(replay) * 4;
  });
  const replayFiles = new BufferFiles(dir, 'replay');
  const poolFiles = new BufferFiles(dir, 'procedural');
  // Segment files: count what each save wrote by the files it named that the previous one did not.
  let named = new Set<string>();
  const segmentWrite = (round: number) => {
    const files = [...replayFiles.save(replay, round), ...poolFiles.save(pool, round)];
    const written = files.filter((f) => !named.has(f.tensorFile));
    const now = new Set(files.map((f) => f.tensorFile));
    // As a checkpoint does once its state names the new files: remove the ones no longer named.
    for (const f of named) if (!now.has(f)) rmSync(join(dir, f), { force: true });
    named = now;
    return written.reduce((a, f) => a + f.rows * (FEATURES + CLASSES) * 4, 0);
  };
  const segments = measure(segmentWrite);
  const result = {
    date: new Date().toISOString().slice(0, 10),
    command: ['npm run bench:checkpoint --', ...process.argv.slice(2)].join(' '),
    setup: { capacity: CAPACITY, features: FEATURES, classes: CLASSES, rowsPerRound: PER_ROUND, poolRows: 60_000, rounds: ROUNDS },
    wholeRing: whole,
    segmentFiles: segments,
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync('bench/results/checkpoint-writes.json', JSON.stringify(result, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
