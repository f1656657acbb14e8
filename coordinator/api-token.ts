/**
 * The API's bearer token for requests that change state (approve, revoke, tokens, publish): random,
 * created on first start in <dataDir>/api.token with mode 0600, so only the coordinator's user can read it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Reads the token file, creating it (0600, exclusively) if missing. */
export function apiToken(file: string): string {
  if (!existsSync(file)) {
    try {
      writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return readFileSync(file, 'utf8').trim();
}
