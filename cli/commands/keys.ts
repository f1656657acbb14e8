/** `distillery keys generate --out <file>`: a new Ed25519 + X25519 identity for a coordinator or a device. */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from '../command.js';
import { parseArgs, UsageError, type Flags } from '../args.js';
import { generateKeyFile } from '../../shared/security/keyfile.js';

const flags: Flags = {
  out: { type: 'string', description: 'secret key file to create (mode 0600); the public identity goes to <file>.pub' },
  force: { type: 'boolean', description: 'replace an existing key file' },
};

export const keysCommand: Command = {
  name: 'keys',
  usage: 'distillery keys generate --out <file> [--force]',
  summary: 'generate a key pair for a coordinator or device (secret file 0600, public identity in <file>.pub)',
  flags,
  async run(argv) {
    const p = parseArgs(argv, flags, 'keys');
    const [action] = p.positional;
    if (action !== 'generate') throw new UsageError(`keys: unknown action ${JSON.stringify(action ?? '')}; use \`distillery keys generate --out <file>\``);
    const out = p.flags.out as string | undefined;
    if (!out) throw new UsageError('keys generate: --out <file> is required');
    if (existsSync(out) && !p.flags.force) throw new UsageError(`keys generate: ${out} already exists; pass --force to replace it (the old identity is lost)`);
    mkdirSync(dirname(out), { recursive: true });
    const result = await generateKeyFile(out, { overwrite: Boolean(p.flags.force) });
    console.log(`identity ${result.identity.id}\nsecret key: ${result.path} (mode 0600)\npublic identity: ${result.publicPath} (give this to the operator for approval)`);
    return 0;
  },
};
