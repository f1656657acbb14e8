/**
 * The one msgpackr configuration the protocol uses. Records, structured clone and bundled strings are off:
 * they make the byte stream depend on encoder state, which a peer running another implementation (or a
 * fresh process) cannot reproduce, and they widen what an attacker can ask the decoder to build.
 */
import { Packr } from 'msgpackr';
import { ok, reject, type Result } from './errors.js';

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  int64AsType: 'number',
});

/** Encodes a plain value (objects, arrays, strings, numbers, Uint8Array as bin). Returns a fresh copy. */
export function packValue(value: unknown): Uint8Array {
  // Copy out of msgpackr's shared scratch buffer so later packs can never alias bytes we have signed.
  return new Uint8Array(packr.pack(value));
}

/**
 * Decodes exactly one msgpack value that must span the whole input. Never throws: random bytes,
 * truncation, unknown extensions, trailing garbage and nesting bombs (stack overflow) become `malformed`.
 * `unpackMultiple` is used so trailing bytes are detected by position, not by msgpackr's error path, which
 * JSON-stringifies the whole decoded value (a cheap amplification for a hostile 64 MiB frame).
 */
export function unpackExact(bytes: Uint8Array): Result<unknown> {
  if (bytes.length === 0) return reject('malformed', 'empty input');
  let first: unknown;
  let end = -1;
  try {
    packr.unpackMultiple(bytes, (value: unknown, _start?: number, stop?: number) => {
      first = value;
      end = stop ?? -1;
      return false;
    });
  } catch (e) {
    return reject('malformed', `msgpack: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (end !== bytes.length) return reject('malformed', `msgpack: ${bytes.length - end} trailing bytes after value`);
  return ok(first);
}
