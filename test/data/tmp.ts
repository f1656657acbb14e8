/** Temp-file helpers for the bad-input tests: each suite writes into its own folder and removes it after. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temp folder for the calling suite; returns a writer that puts a file in it and gives its path. */
export function tempFiles(prefix: string): (name: string, content: string | Uint8Array) => string {
  const dir = mkdtempSync(join(tmpdir(), `distillery-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return (name, content) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
}

/** Runs `fn` and returns the error it throws (failing the test when it does not throw). */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected the call to throw, but it returned');
}
