/**
 * Key files: JSON holding an identity's secret keys, created with mode 0600 and refused on load if group
 * or others can read them (as ssh does), because a readable device key lets anyone impersonate the device.
 * A `.pub` file beside it holds the public identity an operator approves.
 */
import { chmod, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { ProtocolError } from '../protocol/errors.js';
import { bytesEqual, generateIdentity, identityFromSeeds, peerIdFor, publicIdentity, type Identity, type PublicIdentity } from './keys.js';

const FORMAT = 'distillery-identity';
const PUBLIC_FORMAT = 'distillery-public-identity';
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: unknown, len: number, what: string, path: string): Uint8Array => {
  const out = typeof s === 'string' ? new Uint8Array(Buffer.from(s, 'base64')) : new Uint8Array(0);
  if (out.length !== len) throw new ProtocolError('bad_key_file', `${path}: ${what} must be ${len} base64 bytes`);
  return out;
};

/** Result of {@link generateKeyFile}. */
export interface GeneratedKeyFile {
  identity: PublicIdentity;
  path: string;
  publicPath: string;
}

/**
 * Generates an identity and writes it to `path` (mode 0600) and `${path}.pub` (mode 0644).
 * Refuses to replace an existing key unless `overwrite` is set, since losing a device key orphans its enrollment.
 */
export async function generateKeyFile(path: string, opts: { overwrite?: boolean } = {}): Promise<GeneratedKeyFile> {
  const identity = generateIdentity();
  await saveKeyFile(path, identity, opts);
  const publicPath = `${path}.pub`;
  await writeFile(publicPath, formatPublicIdentity(publicIdentity(identity)) + '\n', { mode: 0o644 });
  return { identity: publicIdentity(identity), path, publicPath };
}

/** Writes an identity's secret key file with mode 0600 (created exclusively, or via temp file + rename). */
export async function saveKeyFile(path: string, identity: Identity, opts: { overwrite?: boolean } = {}): Promise<void> {
  const json = JSON.stringify({
    format: FORMAT,
    version: 1,
    id: identity.id,
    signSeed: b64(identity.sign.secretKey.subarray(0, 32)),
    boxSecretKey: b64(identity.box.secretKey),
    signPublicKey: b64(identity.sign.publicKey),
    boxPublicKey: b64(identity.box.publicKey),
  }, null, 2);
  // The mode is set at creation so the secret is never on disk with wider permissions, even briefly.
  const target = opts.overwrite ? `${path}.tmp-${process.pid}-${b64(nacl.randomBytes(6)).replace(/[/+=]/g, '_')}` : path;
  let handle;
  try {
    handle = await open(target, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ProtocolError('key_exists', `${path} already exists; refusing to overwrite a key (pass overwrite to replace it)`);
    throw e;
  }
  try {
    await handle.writeFile(json + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(target, 0o600);
  if (target !== path) {
    try {
      await rename(target, path);
    } catch (e) {
      await unlink(target).catch(() => {});
      throw e;
    }
  }
}

/** Loads an identity, refusing files readable by group/others and files whose keys do not match. */
export async function loadKeyFile(path: string): Promise<Identity> {
  const info = await stat(path);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0)
    throw new ProtocolError(
      'insecure_key_file',
      `${path} has mode ${(info.mode & 0o777).toString(8)}; a key file must not be readable by group or others (run: chmod 600 ${path})`,
    );
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new ProtocolError('bad_key_file', `${path}: not valid JSON`);
  }
  if (raw.format !== FORMAT || raw.version !== 1) throw new ProtocolError('bad_key_file', `${path}: not a ${FORMAT} v1 file`);
  const identity = identityFromSeeds(unb64(raw.signSeed, 32, 'signSeed', path), unb64(raw.boxSecretKey, 32, 'boxSecretKey', path));
  if (
    identity.id !== raw.id ||
    !bytesEqual(identity.sign.publicKey, unb64(raw.signPublicKey, 32, 'signPublicKey', path)) ||
    !bytesEqual(identity.box.publicKey, unb64(raw.boxPublicKey, 32, 'boxPublicKey', path))
  )
    throw new ProtocolError('bad_key_file', `${path}: public keys or id do not match the secret keys`);
  return identity;
}

/** Serializes a public identity as one line of JSON (what `.pub` files and approval commands carry). */
export function formatPublicIdentity(p: PublicIdentity): string {
  return JSON.stringify({ format: PUBLIC_FORMAT, version: 1, id: p.id, signPublicKey: b64(p.signPublicKey), boxPublicKey: b64(p.boxPublicKey) });
}

/** Parses {@link formatPublicIdentity} output; throws if the id is not the fingerprint of the signing key. */
export function parsePublicIdentity(text: string, source = 'public identity'): PublicIdentity {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ProtocolError('bad_key_file', `${source}: not valid JSON`);
  }
  if (raw.format !== PUBLIC_FORMAT) throw new ProtocolError('bad_key_file', `${source}: not a ${PUBLIC_FORMAT}`);
  const signPublicKey = unb64(raw.signPublicKey, 32, 'signPublicKey', source);
  const id = peerIdFor(signPublicKey);
  if (raw.id !== id) throw new ProtocolError('bad_key_file', `${source}: id ${String(raw.id)} is not the fingerprint of its signing key (${id})`);
  return { id, signPublicKey, boxPublicKey: unb64(raw.boxPublicKey, 32, 'boxPublicKey', source) };
}

/** Reads a `.pub` file written by {@link generateKeyFile}. */
export async function loadPublicIdentity(path: string): Promise<PublicIdentity> {
  return parsePublicIdentity(await readFile(path, 'utf8'), path);
}
