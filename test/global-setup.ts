/**
 * Builds dist/distillery-agent.mjs before the tests, so the tests that run `distillery-agent` exercise the
 * bundle of the sources under test, never a stale one.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, [new URL('../scripts/build.mjs', import.meta.url).pathname], { stdio: 'ignore' });
}
