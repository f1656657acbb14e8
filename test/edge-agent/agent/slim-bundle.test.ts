/**
 * The agent ships as a bundle built against a slim tfjs (scripts/build.mjs). Its tensors lack some chained
 * methods, so a device path that calls one works in-process and fails on a real device. This bundles a probe
 * with the same alias and checks it answers every batch-norm mode exactly as the in-process teacher does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { probe } from './slim-probe.js';

// Inside the repository (dist/ is ignored), so its package imports resolve as the agent bundle's do.
const outfile = new URL(`../../../dist/slim-probe-${process.pid}.mjs`, import.meta.url).pathname;
afterAll(() => rmSync(outfile, { force: true }));

describe('device code in the agent\'s slim bundle', () => {
  it('answers gradient queries in every batch-norm mode as in-process', async () => {
    mkdirSync(new URL('../../../dist', import.meta.url).pathname, { recursive: true });
    await build({
      entryPoints: [new URL('./slim-probe-main.ts', import.meta.url).pathname],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      alias: { '@tensorflow/tfjs': new URL('../../../scripts/tfjs-slim.mjs', import.meta.url).pathname },
      logLevel: 'silent',
    });
    const bundled = JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8' }).trim().split('\n').pop()!);
    const local = await probe();
    expect(Object.keys(bundled).sort()).toEqual(Object.keys(local).sort());
    for (const [k, v] of Object.entries(local)) {
      expect(v, k).toBeGreaterThan(0);
      expect(bundled[k], k).toBeCloseTo(v, 3);
    }
  }, 60_000);
});
