/**
 * Identities. Every coordinator and device holds two tweetnacl key pairs: Ed25519 to sign frames and
 * X25519 to encrypt bodies (tweetnacl offers no conversion between the two, and separate keys keep the
 * signature and encryption domains apart). A peer's id is a fingerprint of its signing key, so an id can
 * never be claimed with someone else's key.
 */
import nacl from 'tweetnacl';

/** A full identity, secret keys included. Keep it in a 0600 key file (see keyfile.ts). */
export interface Identity {
  id: string;
  sign: nacl.SignKeyPair;
  box: nacl.BoxKeyPair;
}

/** What others need to know about a peer: its id and public keys. */
export interface PublicIdentity {
  id: string;
  signPublicKey: Uint8Array;
  boxPublicKey: Uint8Array;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The peer id for a signing public key: the first 128 bits of its SHA-512, in hex (32 chars). */
export function peerIdFor(signPublicKey: Uint8Array): string {
  return hex(nacl.hash(signPublicKey).subarray(0, 16));
}

/** Generates a fresh identity from tweetnacl's CSPRNG. */
export function generateIdentity(): Identity {
  const sign = nacl.sign.keyPair();
  return { id: peerIdFor(sign.publicKey), sign, box: nacl.box.keyPair() };
}

/** Rebuilds an identity from its two 32-byte seeds; deterministic, for tests and key files. */
export function identityFromSeeds(signSeed: Uint8Array, boxSecretKey: Uint8Array): Identity {
  const sign = nacl.sign.keyPair.fromSeed(signSeed);
  return { id: peerIdFor(sign.publicKey), sign, box: nacl.box.keyPair.fromSecretKey(boxSecretKey) };
}

/** The shareable half of an identity. */
export function publicIdentity(identity: Identity): PublicIdentity {
  return { id: identity.id, signPublicKey: identity.sign.publicKey, boxPublicKey: identity.box.publicKey };
}

/** Constant-time byte comparison (tweetnacl's verify), for keys and token hashes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && (a.length === 0 || nacl.verify(a, b));
}
