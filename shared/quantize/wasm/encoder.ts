/**
 * A minimal WebAssembly binary encoder: just enough to emit the int8 kernels of kernels-wasm.ts as bytes at
 * run time, so the agent needs no native addon, no build step and no download (issue 6: pure JS + WASM on a
 * Raspberry Pi). Expressions are plain byte arrays composed in postfix order, e.g.
 * `add(get(a), i32(4))` is `local.get a; i32.const 4; i32.add`.
 *
 * Opcodes follow the WebAssembly 2.0 core spec, including the fixed-width SIMD proposal (0xFD prefix).
 */

export type Bytes = number[];
export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a safe integer or bigint (i64 constants need the full range). */
export function sleb(value: number | bigint): Bytes {
  let n = BigInt(value);
  const out: Bytes = [];
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const cat = (...parts: Bytes[]): Bytes => parts.flat();
const utf8 = (s: string): Bytes => [...new TextEncoder().encode(s)];
const vec = (items: Bytes[]): Bytes => cat(uleb(items.length), ...items);

// --- locals, constants, control -------------------------------------------------------------------------
export const get = (l: number): Bytes => [0x20, ...uleb(l)];
export const set = (l: number, v: Bytes): Bytes => [...v, 0x21, ...uleb(l)];
export const i32 = (n: number): Bytes => [0x41, ...sleb(n | 0)];
export const i64 = (n: number | bigint): Bytes => [0x42, ...sleb(n)];
/** Adds a constant to an i32 local in place. */
export const inc = (l: number, by: Bytes | number): Bytes => set(l, add(get(l), typeof by === 'number' ? i32(by) : by));

/**
 * `for (l = from; l < n; l++) body` with n an i32 expression evaluated once per test. The bottom-tested
 * loop sits inside a guard so a zero trip count runs nothing.
 */
export function forUp(l: number, n: Bytes, body: Bytes[], from: Bytes = i32(0)): Bytes {
  return cat(
    set(l, from),
    [0x02, 0x40], cat(get(l), n, [0x4e, 0x0d, 0x00]), // block; br_if 0 when l >= n
    [0x03, 0x40], ...body, inc(l, 1), get(l), n, [0x48, 0x0d, 0x00, 0x0b], // loop ... l < n ? br 0 : fall
    [0x0b],
  );
}

/** `if (cond) then else otherwise` with no result value. */
export function ifElse(cond: Bytes, then: Bytes[], otherwise: Bytes[] = []): Bytes {
  return cat(cond, [0x04, 0x40], ...then, otherwise.length ? [0x05, ...otherwise.flat()] : [], [0x0b]);
}

// --- scalar arithmetic ----------------------------------------------------------------------------------
const bin = (op: number) => (a: Bytes, b: Bytes): Bytes => [...a, ...b, op];
export const add = bin(0x6a);
export const sub = bin(0x6b);
export const mul = bin(0x6c);
export const shl = bin(0x74);
export const shrS = bin(0x75);
export const ltS = bin(0x48);
export const geS = bin(0x4e);
export const add64 = bin(0x7c);
export const mul64 = bin(0x7e);
export const shl64 = bin(0x86);
export const shr64S = bin(0x87);
export const lt64S = bin(0x53);
export const gt64S = bin(0x55);
export const extend64 = (a: Bytes): Bytes => [...a, 0xac];
export const wrap64 = (a: Bytes): Bytes => [...a, 0xa7];
/** `cond ? a : b` (both evaluated). */
export const select = (a: Bytes, b: Bytes, cond: Bytes): Bytes => [...a, ...b, ...cond, 0x1b];

// --- memory ---------------------------------------------------------------------------------------------
const memarg = (align: number, offset: number): Bytes => [...uleb(align), ...uleb(offset)];
export const load32 = (addr: Bytes, offset = 0): Bytes => [...addr, 0x28, ...memarg(2, offset)];
export const load8S = (addr: Bytes, offset = 0): Bytes => [...addr, 0x2c, ...memarg(0, offset)];
export const store8 = (addr: Bytes, v: Bytes, offset = 0): Bytes => [...addr, ...v, 0x3a, ...memarg(0, offset)];
export const store16 = (addr: Bytes, v: Bytes, offset = 0): Bytes => [...addr, ...v, 0x3b, ...memarg(1, offset)];

// --- SIMD (0xFD prefix, opcode as unsigned LEB128) --------------------------------------------------------
const simd = (op: number): Bytes => [0xfd, ...uleb(op)];
const simdMem = (op: number, align: number) => (addr: Bytes, offset = 0): Bytes => [...addr, ...simd(op), ...memarg(align, offset)];
export const vload = simdMem(0x00, 4);
/** Loads 8 int8 values and sign-extends them to i16x8. */
export const vload8x8S = simdMem(0x01, 3);
/** Loads 32 bits and repeats them in all four i32 lanes. */
export const vload32Splat = simdMem(0x09, 2);
export const vstore = (addr: Bytes, v: Bytes, offset = 0): Bytes => [...addr, ...v, ...simd(0x0b), ...memarg(4, offset)];
export const vstore32Lane0 = (addr: Bytes, v: Bytes, offset = 0): Bytes => [...addr, ...v, ...simd(0x5a), ...memarg(2, offset), 0];
export const shuffle = (a: Bytes, b: Bytes, lanes: number[]): Bytes => [...a, ...b, ...simd(0x0d), ...lanes];
const vbin = (op: number) => (a: Bytes, b: Bytes): Bytes => [...a, ...b, ...simd(op)];
const vun = (op: number) => (a: Bytes): Bytes => [...a, ...simd(op)];
export const i16x8Splat = vun(0x10);
export const i32x4Splat = vun(0x11);
export const i64x2Splat = vun(0x12);
export const i8x16MaxS = vbin(0x78);
export const i8x16NarrowI16x8S = vbin(0x65);
export const i16x8NarrowI32x4S = vbin(0x85);
export const i32x4ShrS = vbin(0xac);
export const i32x4Add = vbin(0xae);
export const i32x4MinS = vbin(0xb6);
export const i32x4MaxS = vbin(0xb8);
/** Pairwise i16 products summed into i32 lanes: the 8-MACs-per-instruction core of the conv kernels. */
export const i32x4DotI16x8S = vbin(0xba);
export const i32x4ExtmulLowI16x8S = vbin(0xbc);
export const i32x4ExtmulHighI16x8S = vbin(0xbd);
export const i64x2Add = vbin(0xce);
export const i64x2ExtmulLowI32x4S = vbin(0xdc);
export const i64x2ExtmulHighI32x4S = vbin(0xdd);

// --- module ---------------------------------------------------------------------------------------------

/** One function: i32 parameters, extra locals by type, a body of statements. */
export interface FuncDef {
  name: string;
  params: number;
  locals: ValType[];
  body: Bytes[];
}

/**
 * Assembles a module that imports its memory as env.memory and exports every function by name. Each
 * function takes `params` i32 arguments and returns nothing.
 */
export function assembleModule(funcs: FuncDef[]): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: Bytes): Bytes => [id, ...uleb(content.length), ...content];
  const arities = [...new Set(funcs.map((f) => f.params))];
  const types = vec(arities.map((n) => [0x60, ...vec(Array.from({ length: n }, () => [I32])), 0x00]));
  // env.memory, kind 0x02 (memory), limits: minimum only, 1 page; the host passes a larger one.
  const imports = vec([cat(uleb(3), utf8('env'), uleb(6), utf8('memory'), [0x02, 0x00, 0x01])]);
  const functions = vec(funcs.map((f) => uleb(arities.indexOf(f.params))));
  const exportsSec = vec(funcs.map((f, i) => cat(uleb(utf8(f.name).length), utf8(f.name), [0x00], uleb(i))));
  const codes = vec(
    funcs.map((f) => {
      // Locals are declared in runs of one type; consecutive equal types are merged.
      const runs: Bytes[] = [];
      for (let i = 0; i < f.locals.length; ) {
        let j = i;
        while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
        runs.push([...uleb(j - i), f.locals[i]]);
        i = j;
      }
      const body = cat(vec(runs), ...f.body, [0x0b]);
      return cat(uleb(body.length), body);
    }),
  );
  const bytes = cat(
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    section(1, types),
    section(2, imports),
    section(3, functions),
    section(7, exportsSec),
    section(10, codes),
  );
  return new Uint8Array(bytes);
}

/** Allocates local indices after the parameters, remembering their types for the declaration. */
export class Locals {
  readonly types: ValType[] = [];
  constructor(private readonly params: number) {}
  i32(): number {
    return this.add(I32);
  }
  i64(): number {
    return this.add(I64);
  }
  v128(): number {
    return this.add(V128);
  }
  private add(t: ValType): number {
    this.types.push(t);
    return this.params + this.types.length - 1;
  }
}
