/**
 * Ed25519 signing backends over tweetnacl-format keys (64-byte secret = seed || public key).
 *
 * Why two: tweetnacl's pure-JS Ed25519 managed about 350 signs/s and 180 verifies/s on this 2-core
 * machine, which would cap a coordinator at ~90 secured round trips per second and make a 10,000-frame
 * fuzz run take a minute. Node's built-in Ed25519 (OpenSSL) produces the identical deterministic
 * signatures about 50x faster, so it is the default where present; tweetnacl remains the fallback for
 * runtimes without it (and the test suite checks that both agree byte for byte).
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';

/** A signing backend. Keys are raw tweetnacl bytes regardless of backend. */
export interface Ed25519 {
  readonly name: string;
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
}

/** Pure-JS backend (tweetnacl). */
export const tweetnaclEd25519: Ed25519 = {
  name: 'tweetnacl',
  sign: (message, secretKey) => nacl.sign.detached(message, secretKey),
  verify: (message, signature, publicKey) =>
    signature.length === 64 && publicKey.length === 32 && nacl.sign.detached.verify(message, signature, publicKey),
};

// DER prefixes that wrap a raw 32-byte Ed25519 seed / public key as PKCS#8 / SPKI (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_CACHE_LIMIT = 4096;

/** Node's OpenSSL backend, with a bounded cache of parsed keys (parsing costs more than verifying). */
export function createNodeEd25519(): Ed25519 {
  const privateKeys = new Map<string, KeyObject>();
  const publicKeys = new Map<string, KeyObject | null>();
  const remember = <V>(cache: Map<string, V>, k: string, v: V): V => {
    if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
    cache.set(k, v);
    return v;
  };
  const privateKey = (secretKey: Uint8Array): KeyObject => {
    const k = Buffer.from(secretKey.subarray(0, 32)).toString('base64');
    return (
      privateKeys.get(k) ??
      remember(privateKeys, k, createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' }))
    );
  };
  const publicKey = (pk: Uint8Array): KeyObject | null => {
    const k = Buffer.from(pk).toString('base64');
    if (publicKeys.has(k)) return publicKeys.get(k) ?? null;
    let parsed: KeyObject | null = null;
    try {
      parsed = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' });
    } catch {
      parsed = null; // not a valid curve point: every signature under it is invalid
    }
    return remember(publicKeys, k, parsed);
  };
  return {
    name: 'node:crypto',
    sign: (message, secretKey) => new Uint8Array(nodeSign(null, message, privateKey(secretKey))),
    verify: (message, signature, pk) => {
      if (signature.length !== 64 || pk.length !== 32) return false;
      const key = publicKey(pk);
      if (key === null) return false;
      try {
        return nodeVerify(null, message, key, signature);
      } catch {
        return false; // OpenSSL refusing an odd key or signature is a failed verification, not a crash
      }
    },
  };
}

function pickDefault(): Ed25519 {
  try {
    const probe = createNodeEd25519();
    const kp = nacl.sign.keyPair.fromSeed(new Uint8Array(32));
    const msg = new Uint8Array([1, 2, 3]);
    if (probe.verify(msg, probe.sign(msg, kp.secretKey), kp.publicKey)) return probe;
  } catch {
    /* no Ed25519 in this runtime's crypto */
  }
  return tweetnaclEd25519;
}

/** The fastest backend available in this runtime. */
export const defaultEd25519: Ed25519 = pickDefault();
