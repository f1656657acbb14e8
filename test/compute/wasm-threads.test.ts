import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveThreads } from '../../shared/compute/backend.js';
import { wasmThreadsFromEnv } from '../../shared/compute/wasm-threads.js';

const CHILD = fileURLToPath(new URL('./helpers/threaded-steps.ts', import.meta.url));

/** Runs the child with `threads` XNNPACK threads; a child that does not exit by itself hits the timeout. */
function trainIn(threads: number, env: Record<string, string> = {}): { backend: string; threads: number; weights: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    encoding: 'utf8',
    timeout: 45_000,
    env: { ...process.env, DISTILLERY_WASM_THREADS: String(threads), DISTILLERY_BACKEND: 'wasm', ...env },
  });
  expect(r.error, `child with ${threads} threads: ${r.stderr}`).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  return { ...JSON.parse(r.stdout.trim()), stderr: r.stderr };
}

describe('multi-threaded wasm backend', () => {
  it('trains bit-identically on 2 threads and 1, and the threaded process exits by itself', () => {
    const two = trainIn(2);
    const one = trainIn(1);
    expect(two.threads).toBe(2);
    expect(one.threads).toBe(1);
    expect(two.weights).toBe(one.weights);
  });

  it('falls back to one thread, saying why, when the worker script cannot be written', () => {
    // A folder under a plain file cannot exist, whoever runs the test.
    const dir = mkdtempSync(join(tmpdir(), 'distillery-threads-'));
    try {
      const file = join(dir, 'plain-file');
      writeFileSync(file, '');
      const fallback = trainIn(2, { BROKEN_TMPDIR: join(file, 'sub') });
      expect(fallback.threads).toBe(1);
      expect(fallback.stderr).toMatch(/wasm threads unavailable \(.*plain-file\/sub.*\); running single-threaded/);
      expect(fallback.weights).toBe(trainIn(1).weights);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads DISTILLERY_WASM_THREADS only where the caller asked for auto, and rejects bad values', () => {
    expect(resolveThreads(undefined, '4')).toBe(1);
    expect(resolveThreads(3, '4')).toBe(3);
    expect(resolveThreads('auto', '4')).toBe(4);
    expect(resolveThreads('auto', undefined)).toBeGreaterThanOrEqual(1);
    expect(wasmThreadsFromEnv('', 2)).toBe(2);
    for (const bad of ['0', '9', '1.5', 'two']) expect(() => wasmThreadsFromEnv(bad, 2)).toThrow(/DISTILLERY_WASM_THREADS="[^"]+" is not a thread count/);
  });
});
