/**
 * The integer kernels, generated as WebAssembly SIMD. All activations are int8 in memory; a conv's input is
 * first widened into a zero-point-padded i16 copy so the inner loop needs one `v128.load32_splat` per pair of
 * inputs. Accumulation is int32; requantization is a separate pass so tests can check accumulators exactly.
 *
 * Direct convolution, no im2col buffer: in NHWC the inputs under one kernel row (kx, ci) are contiguous, so
 * a kernel row is one "segment" read as i16 pairs; `i32x4.dot_i16x8_s` multiplies a pair against the
 * matching weight pair of four output channels (8 MACs per instruction), the "c2" packing of XNNPACK's int8
 * wasm SIMD GEMM microkernels (qs8-gemm ...c2-wasmsimd-dot16x2). Weights stay int8 in memory and are
 * sign-extended on load (`v128.load8x8_s`): measured, i16 weights were only ~10% faster at twice the bytes.
 *
 * Every kernel may read up to 16 bytes past its last input and write up to 16 bytes past its last output;
 * the runtime leaves that slack after each buffer (SLACK).
 */
import {
  Locals, add, assembleModule, extend64, forUp, geS, get, gt64S, i16x8NarrowI32x4S, i16x8Splat, i32, i32x4Add,
  i32x4DotI16x8S, i32x4ExtmulHighI16x8S, i32x4ExtmulLowI16x8S, i32x4MaxS, i32x4MinS, i32x4ShrS, i32x4Splat, i64,
  i64x2Add, i64x2ExtmulHighI32x4S, i64x2ExtmulLowI32x4S, i64x2Splat, i8x16MaxS, i8x16NarrowI16x8S, ifElse, inc,
  load32, load8S, lt64S, mul, mul64, select, set, shl, shl64, shr64S, shrS, shuffle, store16, store8, sub, add64,
  vload, vload32Splat, vload8x8S, vstore, vstore32Lane0, wrap64, type FuncDef,
} from './encoder.js';

/** Bytes of read/write overrun every buffer must tolerate. */
export const SLACK = 64;
/** The widest conv pass generated: 8 groups of 4 output channels. */
export const MAX_TILE_GROUPS = 8;
/**
 * The default pass width. V8's TurboFan hoists a pass's weight loads ahead of its dot products, so a pass
 * of T groups needs about 2T + 1 vector registers; x64 has 16, and measured 4-group passes beat 8-group
 * ones by 30% on conv and dense layers (8 spill). arm64's 32 registers may prefer 8 (KernelChoice).
 */
export const DEFAULT_TILE_GROUPS = 4;

/**
 * conv{T}(in, w, bias, out, oh, ow, rowStep, colStep, segs, nSeg, pairs, outStride): int32 accumulators
 * for T groups of 4 output channels. `in` is the padded i16 input, `segs` a table of nSeg byte offsets (one
 * per contiguous kernel segment) from an output pixel's top-left input, each read as `pairs` i16 pairs.
 * Weights are packed [seg][pair][group][channel 0..3][2 x int8]; `bias` holds 4T int32 starting values.
 */
function convTile(T: number): FuncDef {
  const [inp, w, bias, out0, oh, ow, rowStep, colStep, segs, nSeg, pairs, outStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const L = new Locals(12);
  const [oy, ox, row, pix, s, p, k, wp, out] = [L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32()];
  const xs = L.v128();
  const acc = Array.from({ length: T }, () => L.v128());
  const body = [
    set(out, get(out0)),
    forUp(oy, get(oh), [
      set(row, add(get(inp), mul(get(oy), get(rowStep)))),
      forUp(ox, get(ow), [
        set(pix, add(get(row), mul(get(ox), get(colStep)))),
        ...acc.map((a, g) => set(a, vload(get(bias), 16 * g))),
        set(wp, get(w)),
        forUp(s, get(nSeg), [
          set(p, add(get(pix), load32(add(get(segs), shl(get(s), i32(2)))))),
          forUp(k, get(pairs), [
            set(xs, vload32Splat(get(p))),
            ...acc.map((a, g) => set(a, i32x4Add(get(a), i32x4DotI16x8S(get(xs), vload8x8S(get(wp), 8 * g))))),
            inc(wp, 8 * T),
            inc(p, 4),
          ]),
        ]),
        ...acc.map((a, g) => vstore(get(out), get(a), 16 * g)),
        inc(out, get(outStride)),
      ]),
    ]),
  ];
  return { name: `conv${T}`, params: 12, locals: L.types, body };
}

/**
 * dw(in, w, bias, out, oh, ow, rowStep, colStep, taps, nTaps, cBlocks, outStride): depthwise int32
 * accumulators, 8 channels per step (i16 x int8-widened products into two i32x4). Weights are packed
 * [tap][cBlocks*8 channels] int8; `taps` holds nTaps byte offsets into the padded i16 input.
 */
function depthwise(): FuncDef {
  const [inp, w, bias, out0, oh, ow, rowStep, colStep, taps, nTaps, cBlocks, outStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const L = new Locals(12);
  const [oy, ox, pix, cb, t, wp, xp, out] = [L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32()];
  const [x, wv, lo, hi] = [L.v128(), L.v128(), L.v128(), L.v128()];
  const body = [
    set(out, get(out0)),
    forUp(oy, get(oh), [
      forUp(ox, get(ow), [
        set(pix, add(add(get(inp), mul(get(oy), get(rowStep))), mul(get(ox), get(colStep)))),
        forUp(cb, get(cBlocks), [
          set(lo, vload(add(get(bias), shl(get(cb), i32(5))))),
          set(hi, vload(add(get(bias), shl(get(cb), i32(5))), 16)),
          set(wp, add(get(w), shl(get(cb), i32(3)))),
          set(xp, add(get(pix), shl(get(cb), i32(4)))),
          forUp(t, get(nTaps), [
            set(x, vload(add(get(xp), load32(add(get(taps), shl(get(t), i32(2))))))),
            set(wv, vload8x8S(get(wp))),
            set(lo, i32x4Add(get(lo), i32x4ExtmulLowI16x8S(get(x), get(wv)))),
            set(hi, i32x4Add(get(hi), i32x4ExtmulHighI16x8S(get(x), get(wv)))),
            inc(wp, shl(get(cBlocks), i32(3))),
          ]),
          vstore(add(get(out), shl(get(cb), i32(5))), get(lo)),
          vstore(add(get(out), shl(get(cb), i32(5))), get(hi), 16),
        ]),
        inc(out, get(outStride)),
      ]),
    ]),
  ];
  return { name: 'dw', params: 12, locals: L.types, body };
}

/**
 * requant(acc, out, nPix, accStride, c, mult, shift, zp, qmin, qmax): out = clamp(zp + ((acc * mult[ch] +
 * 2^(shift-1)) >> shift), qmin, qmax), the single-rounding fixed-point requantization of TFLite
 * (TFLITE_SINGLE_ROUNDING; Jacob et al. 2018 sec. 2.2). With shift >= 32 it runs four channels per step:
 * 32x32->64 products, then the high words (>> 32) and an i32 shift by shift-32, which is exact because
 * floor(floor(x / 2^32) / 2^s) = floor(x / 2^(32+s)). Smaller shifts (multipliers >= 0.5) take a scalar
 * i64 path that clamps before narrowing.
 */
function requant(): FuncDef {
  const [acc, out, nPix, accStride, c, mult, shift, zp, qmin, qmax] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const L = new Locals(10);
  const [p, g, a, o, groups] = [L.i32(), L.i32(), L.i32(), L.i32(), L.i32()];
  const [round, v, lo, hi, zpv, minv, maxv] = [L.v128(), L.v128(), L.v128(), L.v128(), L.v128(), L.v128(), L.v128()];
  const [x, r64, min64, max64] = [L.i64(), L.i64(), L.i64(), L.i64()];
  const highWords = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];
  const vectorPath = [
    set(groups, shrS(add(get(c), i32(3)), i32(2))),
    set(round, i64x2Splat(shl64(i64(1), extend64(sub(get(shift), i32(1)))))),
    set(zpv, i32x4Splat(get(zp))),
    set(minv, i32x4Splat(get(qmin))),
    set(maxv, i32x4Splat(get(qmax))),
    forUp(p, get(nPix), [
      set(a, add(get(acc), mul(get(p), get(accStride)))),
      set(o, add(get(out), mul(get(p), get(c)))),
      forUp(g, get(groups), [
        set(v, vload(add(get(a), shl(get(g), i32(4))))),
        set(lo, i64x2Add(i64x2ExtmulLowI32x4S(get(v), vload(add(get(mult), shl(get(g), i32(4))))), get(round))),
        set(hi, i64x2Add(i64x2ExtmulHighI32x4S(get(v), vload(add(get(mult), shl(get(g), i32(4))))), get(round))),
        set(v, i32x4ShrS(shuffle(get(lo), get(hi), highWords), sub(get(shift), i32(32)))),
        set(v, i32x4MinS(i32x4MaxS(i32x4Add(get(v), get(zpv)), get(minv)), get(maxv))),
        set(v, i16x8NarrowI32x4S(get(v), get(v))),
        set(v, i8x16NarrowI16x8S(get(v), get(v))),
        vstore32Lane0(add(get(o), shl(get(g), i32(2))), get(v)),
      ]),
    ]),
  ];
  const scalarPath = [
    set(r64, shl64(i64(1), extend64(sub(get(shift), i32(1))))),
    set(min64, extend64(get(qmin))),
    set(max64, extend64(get(qmax))),
    forUp(p, get(nPix), [
      set(a, add(get(acc), mul(get(p), get(accStride)))),
      set(o, add(get(out), mul(get(p), get(c)))),
      forUp(g, get(c), [
        set(x, add64(mul64(extend64(load32(add(get(a), shl(get(g), i32(2))))), extend64(load32(add(get(mult), shl(get(g), i32(2)))))), get(r64))),
        set(x, add64(shr64S(get(x), extend64(get(shift))), extend64(get(zp)))),
        set(x, select(get(min64), get(x), lt64S(get(x), get(min64)))),
        set(x, select(get(max64), get(x), gt64S(get(x), get(max64)))),
        store8(add(get(o), get(g)), wrap64(get(x))),
      ]),
    ]),
  ];
  return { name: 'requant', params: 10, locals: L.types, body: [ifElse(geS(get(shift), i32(32)), vectorPath, scalarPath)] };
}

/**
 * pad(src, dst, h, rowLen, dstRowStride, dstStart, total, zp): fills the i16 buffer `dst` (total values)
 * with the zero point, then widens each of the h int8 rows of `src` (rowLen values) to i16 at
 * dst + dstStart + y * dstRowStride. Padding with the zero point makes 'same' borders exactly real 0.0.
 */
function pad(): FuncDef {
  const [src, dst, h, rowLen, dstRowStride, dstStart, total, zp] = [0, 1, 2, 3, 4, 5, 6, 7];
  const L = new Locals(8);
  const [i, y, s, d, n8] = [L.i32(), L.i32(), L.i32(), L.i32(), L.i32()];
  const fill = L.v128();
  const body = [
    set(fill, i16x8Splat(get(zp))),
    forUp(i, shrS(add(get(total), i32(7)), i32(3)), [vstore(add(get(dst), shl(get(i), i32(4))), get(fill))]),
    set(n8, shrS(get(rowLen), i32(3))),
    forUp(y, get(h), [
      set(s, add(get(src), mul(get(y), get(rowLen)))),
      set(d, add(add(get(dst), get(dstStart)), mul(get(y), get(dstRowStride)))),
      // Eight at a time, then the tail one by one: overrunning here would clobber the next row's border.
      forUp(i, get(n8), [vstore(add(get(d), shl(get(i), i32(4))), vload8x8S(add(get(s), shl(get(i), i32(3)))))]),
      forUp(i, get(rowLen), [store16(add(get(d), shl(get(i), i32(1))), load8S(add(get(s), get(i))))], shl(get(n8), i32(3))),
    ]),
  ];
  return { name: 'pad', params: 8, locals: L.types, body };
}

/**
 * maxpool(in, out, oh, ow, c, ph, pw, rowStep, colStep, inRow): int8 'valid' max pooling, 16 channels per
 * step. Max commutes with the (monotonic) affine dequantization, so output scale and zero point equal the
 * input's and no requantization is needed.
 */
function maxPool(): FuncDef {
  const [inp, out0, oh, ow, c, ph, pw, rowStep, colStep, inRow] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const L = new Locals(10);
  const [oy, ox, base, cb, ky, kx, out, chunks] = [L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32(), L.i32()];
  const v = L.v128();
  const body = [
    set(out, get(out0)),
    set(chunks, shrS(add(get(c), i32(15)), i32(4))),
    forUp(oy, get(oh), [
      forUp(ox, get(ow), [
        set(base, add(add(get(inp), mul(get(oy), get(rowStep))), mul(get(ox), get(colStep)))),
        forUp(cb, get(chunks), [
          set(v, vload(add(get(base), shl(get(cb), i32(4))))),
          forUp(ky, get(ph), [
            forUp(kx, get(pw), [
              set(v, i8x16MaxS(get(v), vload(add(add(add(get(base), shl(get(cb), i32(4))), mul(get(ky), get(inRow))), mul(get(kx), get(c)))))),
            ]),
          ]),
          vstore(add(get(out), shl(get(cb), i32(4))), get(v)),
        ]),
        inc(out, get(c)),
      ]),
    ]),
  ];
  return { name: 'maxpool', params: 10, locals: L.types, body };
}

/** The exported functions of the kernel module, with their arities. */
export interface KernelExports {
  [name: `conv${number}`]: (...args: number[]) => void;
  dw(...args: number[]): void;
  requant(...args: number[]): void;
  pad(...args: number[]): void;
  maxpool(...args: number[]): void;
}

let compiled: WebAssembly.Module | undefined;

/** The kernel module, assembled and compiled once per process. */
export function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const funcs = [...Array.from({ length: MAX_TILE_GROUPS }, (_, t) => convTile(t + 1)), depthwise(), requant(), pad(), maxPool()];
    const bytes = assembleModule(funcs);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** Instantiates the kernels over `memory` (synchronous: the module is small). */
export function instantiateKernels(memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(kernelModule(), { env: { memory } }).exports as unknown as KernelExports;
}
