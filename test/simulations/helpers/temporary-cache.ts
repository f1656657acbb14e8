/** A test file's own teacher and baseline cache, so that it neither reads nor fills the user's `.cache/`. */
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../../shared/compute/backend.js';

/**
 * Points DISTILLERY_CACHE at a new temporary folder before the file's tests (and starts the compute backend),
 * then restores the previous value and removes the folder. Returns the folder.
 */
export function useTemporaryCache(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `distillery-${name}-`));
  const previous = process.env.DISTILLERY_CACHE;
  beforeAll(async () => {
    process.env.DISTILLERY_CACHE = dir;
    await initBackend(() => {});
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.DISTILLERY_CACHE;
    else process.env.DISTILLERY_CACHE = previous;
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
