import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeEd25519, tweetnaclEd25519 } from '../../shared/security/ed25519.js';
import { generateKeyFile, loadKeyFile, loadPublicIdentity, parsePublicIdentity } from '../../shared/security/keyfile.js';
import { generateIdentity, peerIdFor } from '../../shared/security/keys.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'distillery-keys-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('key files', () => {
  it('writes the secret key with mode 0600 and a public .pub beside it', async () => {
    const path = join(dir, 'device.key');
    const out = await generateKeyFile(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(out.publicPath).toBe(`${path}.pub`);
    const loaded = await loadKeyFile(path);
    expect(loaded.id).toBe(out.identity.id);
    expect(loaded.id).toBe(peerIdFor(loaded.sign.publicKey));
    // The loaded keys actually work: sign/verify and box/open.
    const msg = new Uint8Array([1, 2, 3]);
    expect(nacl.sign.detached.verify(msg, nacl.sign.detached(msg, loaded.sign.secretKey), out.identity.signPublicKey)).toBe(true);
    const peer = nacl.box.keyPair();
    const nonce = new Uint8Array(24);
    expect(nacl.box.open(nacl.box(msg, nonce, out.identity.boxPublicKey, peer.secretKey), nonce, peer.publicKey, loaded.box.secretKey)).toEqual(msg);
    const pub = await loadPublicIdentity(out.publicPath);
    expect(pub.id).toBe(out.identity.id);
    expect(await readFile(out.publicPath, 'utf8')).not.toMatch(/secret|seed/i);
  });

  it('refuses to overwrite an existing key unless asked, and keeps 0600 when it does', async () => {
    const path = join(dir, 'device.key');
    const first = await generateKeyFile(path);
    await expect(generateKeyFile(path)).rejects.toThrow(/already exists/);
    expect((await loadKeyFile(path)).id).toBe(first.identity.id);
    const second = await generateKeyFile(path, { overwrite: true });
    expect(second.identity.id).not.toBe(first.identity.id);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await loadKeyFile(path)).id).toBe(second.identity.id);
  });

  it('refuses to load a key file readable by group or others', async () => {
    const path = join(dir, 'device.key');
    await generateKeyFile(path);
    await chmod(path, 0o644);
    await expect(loadKeyFile(path)).rejects.toThrow(/mode 644.*chmod 600/);
  });

  it('refuses a key file whose public keys do not match its secrets', async () => {
    const path = join(dir, 'device.key');
    await generateKeyFile(path);
    const raw = JSON.parse(await readFile(path, 'utf8'));
    raw.boxPublicKey = Buffer.from(nacl.box.keyPair().publicKey).toString('base64');
    await writeFile(path, JSON.stringify(raw), { mode: 0o600 });
    await expect(loadKeyFile(path)).rejects.toThrow(/do not match/);
  });

  it('refuses a public identity whose id is not its key fingerprint', () => {
    const a = generateIdentity();
    const text = JSON.stringify({
      format: 'distillery-public-identity',
      version: 1,
      id: generateIdentity().id,
      signPublicKey: Buffer.from(a.sign.publicKey).toString('base64'),
      boxPublicKey: Buffer.from(a.box.publicKey).toString('base64'),
    });
    expect(() => parsePublicIdentity(text)).toThrow(/not the fingerprint/);
  });
});

describe('Ed25519 backends', () => {
  it('produce identical signatures and verify each other', () => {
    const node = createNodeEd25519();
    for (let i = 0; i < 20; i++) {
      const kp = nacl.sign.keyPair();
      const msg = nacl.randomBytes(i * 37);
      const a = tweetnaclEd25519.sign(msg, kp.secretKey);
      const b = node.sign(msg, kp.secretKey);
      expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
      expect(node.verify(msg, a, kp.publicKey)).toBe(true);
      expect(tweetnaclEd25519.verify(msg, b, kp.publicKey)).toBe(true);
      const bad = a.slice();
      bad[5] ^= 1;
      expect(node.verify(msg, bad, kp.publicKey)).toBe(false);
      expect(tweetnaclEd25519.verify(msg, bad, kp.publicKey)).toBe(false);
    }
  });

  it('reject malformed keys and signatures without throwing', () => {
    const node = createNodeEd25519();
    const msg = new Uint8Array([1]);
    expect(node.verify(msg, new Uint8Array(63), new Uint8Array(32))).toBe(false);
    expect(node.verify(msg, new Uint8Array(64), new Uint8Array(31))).toBe(false);
    expect(node.verify(msg, new Uint8Array(64).fill(0xff), new Uint8Array(32).fill(0xff))).toBe(false);
  });
});
