/**
 * The JS side of the wasm int8 kernels: weight packing for the SIMD layouts, a bump layout for one wasm
 * memory, and calls with precomputed arguments. The runtime (runtime.ts) plans a whole model with these;
 * the one-shot helpers at the bottom run a single op from plain arrays (tests, tools).
 */
import { DEFAULT_TILE_GROUPS, MAX_TILE_GROUPS, SLACK, instantiateKernels, type KernelExports } from './wasm/kernels-wasm.js';
import { paddedDims, sizeOf, type ConvGeometry, type Pair, type Shape3 } from './geometry.js';

/** Assigns 16-byte-aligned offsets in one linear memory, each followed by SLACK bytes of overrun room. */
export class Layout {
  private top = SLACK;
  reserve(bytes: number): number {
    const at = Math.ceil(this.top / 16) * 16;
    this.top = at + bytes + SLACK;
    return at;
  }
  get bytes(): number {
    return this.top;
  }
}

/** A wasm memory sized for a Layout, with the kernels instantiated over it and typed views of it. */
export class KernelMemory {
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  readonly i8: Int8Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  constructor(bytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
    this.k = instantiateKernels(this.memory);
    // The memory never grows after this, so the views stay attached.
    this.i8 = new Int8Array(this.memory.buffer);
    this.i16 = new Int16Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }
}

/** A conv (or dense, as a 1x1 conv) ready for the conv kernels. */
export interface ConvPlan {
  geo: ConvGeometry;
  /** Int8 weights in the kernel's [tile][seg][pair][group][4 channels][2] order. */
  packed: Int8Array;
  /** Starting accumulators: bias - inputZeroPoint * sum(weights), per channel, padded to whole groups. */
  bias: Int32Array;
  /** Byte offset of each kernel segment in the padded i16 input. */
  segs: Int32Array;
  /** i16 pairs read per segment. */
  pairs: number;
  tiles: { start: number; groups: number; offset: number }[];
  /** int32 accumulators per output pixel (channels rounded up to groups of 4). */
  accStride: number;
}

/** Overrides of the kernel variant planConv picks (tests use it to cover every generated kernel). */
export interface KernelChoice {
  /** Most 4-channel groups per pass, 1..MAX_TILE_GROUPS (default DEFAULT_TILE_GROUPS). */
  tileGroups?: number;
}

/**
 * Packs int8 weights [kh][kw][cin][cout] for the conv kernels. With dilation 1 along x, one kernel row
 * (kw * cin values) is contiguous in NHWC input and forms one segment; otherwise each (ky, kx) does. An odd
 * segment gets a zero weight for the extra element its last pair reads.
 */
export function planConv(geo: ConvGeometry, weights: Int8Array, bias: Int32Array, inputZeroPoint: number, choice: KernelChoice = {}): ConvPlan {
  const [kh, kw] = geo.kernel;
  const [dh, dw] = geo.dilation;
  const cin = geo.inShape[2];
  const cout = geo.outShape[2];
  const wp = paddedDims(geo)[1];
  const rowSegments = dw === 1;
  const segLen = rowSegments ? kw * cin : cin;
  const pairs = Math.ceil(segLen / 2);
  const segTaps: Pair[] = [];
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < (rowSegments ? 1 : kw); kx++) segTaps.push([ky, kx]);
  const segs = Int32Array.from(segTaps, ([ky, kx]) => (ky * dh * wp + kx * dw) * cin * 2);
  const weight = (seg: number, e: number, c: number): number => {
    if (e >= segLen || c >= cout) return 0;
    const [ky, kx0] = segTaps[seg];
    const kx = rowSegments ? Math.floor(e / cin) : kx0;
    const ci = rowSegments ? e % cin : e;
    return weights[((ky * kw + kx) * cin + ci) * cout + c];
  };
  const groups = Math.ceil(cout / 4);
  const width = choice.tileGroups ?? DEFAULT_TILE_GROUPS;
  if (!Number.isInteger(width) || width < 1 || width > MAX_TILE_GROUPS) throw new Error(`planConv: tileGroups must be an integer in 1..${MAX_TILE_GROUPS}, got ${width}`);
  const nTiles = Math.ceil(groups / width);
  const perTile = Math.ceil(groups / nTiles);
  const tiles: ConvPlan['tiles'] = [];
  const packed = new Int8Array(segs.length * pairs * groups * 8);
  let at = 0;
  for (let start = 0; start < groups; start += perTile) {
    const g = Math.min(perTile, groups - start);
    tiles.push({ start, groups: g, offset: at });
    for (let s = 0; s < segs.length; s++) {
      for (let p = 0; p < pairs; p++) {
        for (let gi = 0; gi < g; gi++) {
          for (let j = 0; j < 4; j++) {
            const c = (start + gi) * 4 + j;
            packed[at++] = weight(s, 2 * p, c);
            packed[at++] = weight(s, 2 * p + 1, c);
          }
        }
      }
    }
  }
  const folded = new Int32Array(groups * 4);
  const k = kh * kw * cin;
  for (let c = 0; c < cout; c++) {
    let sum = 0;
    for (let i = 0; i < k; i++) sum += weights[i * cout + c];
    folded[c] = bias[c] - inputZeroPoint * sum;
  }
  return { geo, packed, bias: folded, segs, pairs, tiles, accStride: groups * 4 };
}

/** A depthwise conv ready for the dw kernel (input channels already repeated `multiplier` times). */
export interface DepthwisePlan {
  geo: ConvGeometry;
  packed: Int8Array;
  bias: Int32Array;
  taps: Int32Array;
  accStride: number;
}

/**
 * Packs depthwise weights [kh][kw][cin][multiplier] as [tap][channel] with output channel ci * m + j, the
 * TF.js order, padded to blocks of 8 channels. `geo.inShape` counts the expanded channels (cin * m).
 */
export function planDepthwise(geo: ConvGeometry, weights: Int8Array, bias: Int32Array, inputZeroPoint: number): DepthwisePlan {
  const [kh, kw] = geo.kernel;
  const c = geo.outShape[2];
  const c8 = Math.ceil(c / 8) * 8;
  const wp = paddedDims(geo)[1];
  const taps = new Int32Array(kh * kw);
  const packed = new Int8Array(kh * kw * c8);
  const folded = new Int32Array(c8);
  for (let t = 0; t < kh * kw; t++) {
    const ky = Math.floor(t / kw);
    const kx = t % kw;
    taps[t] = (ky * geo.dilation[0] * wp + kx * geo.dilation[1]) * geo.inShape[2] * 2;
    for (let o = 0; o < c; o++) packed[t * c8 + o] = weights[t * c + o];
  }
  for (let o = 0; o < c; o++) {
    let sum = 0;
    for (let t = 0; t < kh * kw; t++) sum += weights[t * c + o];
    folded[o] = bias[o] - inputZeroPoint * sum;
  }
  return { geo, packed, bias: folded, taps, accStride: c8 };
}

/** Where a plan's constants live in memory. */
export interface Placed {
  w: number;
  bias: number;
  table: number;
}

/** Reserves room for a plan's constants; `write` copies them once the memory exists. */
export function placePlan(layout: Layout, plan: ConvPlan | DepthwisePlan): Placed {
  const table = 'segs' in plan ? plan.segs : plan.taps;
  return { w: layout.reserve(plan.packed.length), bias: layout.reserve(plan.bias.length * 4), table: layout.reserve(table.length * 4) };
}

export function writePlan(mem: KernelMemory, plan: ConvPlan | DepthwisePlan, at: Placed): void {
  mem.i8.set(plan.packed, at.w);
  mem.i32.set(plan.bias, at.bias / 4);
  mem.i32.set('segs' in plan ? plan.segs : plan.taps, at.table / 4);
}

/** Bytes of the i16 padded input and of the int32 accumulators a plan needs. */
export function scratchBytes(plan: ConvPlan | DepthwisePlan): { padded: number; acc: number } {
  const [hp, wp] = paddedDims(plan.geo);
  return { padded: hp * wp * plan.geo.inShape[2] * 2, acc: plan.geo.outShape[0] * plan.geo.outShape[1] * plan.accStride * 4 };
}

/** Widens the int8 input at `input` into the zero-point-padded i16 buffer at `padded`. */
export function padInput(mem: KernelMemory, geo: ConvGeometry, input: number, padded: number, zeroPoint: number): void {
  const [h, w, c] = geo.inShape;
  const [hp, wp] = paddedDims(geo);
  mem.k.pad(input, padded, h, w * c, wp * c * 2, (geo.pads[0] * wp + geo.pads[1]) * c * 2, hp * wp * c, zeroPoint);
}

/** Runs a conv plan from a padded input to int32 accumulators (accStride per pixel). */
export function convAcc(mem: KernelMemory, plan: ConvPlan, at: Placed, padded: number, acc: number): void {
  const { geo } = plan;
  const [, wp] = paddedDims(geo);
  const c2 = geo.inShape[2] * 2;
  for (const tile of plan.tiles) {
    mem.k[`conv${tile.groups}`](
      padded, at.w + tile.offset, at.bias + tile.start * 16, acc + tile.start * 16, geo.outShape[0], geo.outShape[1],
      geo.strides[0] * wp * c2, geo.strides[1] * c2, at.table, plan.segs.length, plan.pairs, plan.accStride * 4,
    );
  }
}

/** Runs a depthwise plan from a padded input to int32 accumulators. */
export function depthwiseAcc(mem: KernelMemory, plan: DepthwisePlan, at: Placed, padded: number, acc: number): void {
  const { geo } = plan;
  const [, wp] = paddedDims(geo);
  const c2 = geo.inShape[2] * 2;
  mem.k.dw(
    padded, at.w, at.bias, acc, geo.outShape[0], geo.outShape[1], geo.strides[0] * wp * c2, geo.strides[1] * c2,
    at.table, plan.taps.length, plan.accStride / 8, plan.accStride * 4,
  );
}

// --- one-shot helpers over plain arrays -------------------------------------------------------------------

function oneShot(plan: ConvPlan | DepthwisePlan, input: Int8Array, zeroPoint: number): Int32Array {
  const layout = new Layout();
  const at = placePlan(layout, plan);
  const scratch = scratchBytes(plan);
  const inPtr = layout.reserve(input.length);
  const padPtr = layout.reserve(scratch.padded);
  const accPtr = layout.reserve(scratch.acc);
  const mem = new KernelMemory(layout.bytes);
  writePlan(mem, plan, at);
  mem.i8.set(input, inPtr);
  padInput(mem, plan.geo, inPtr, padPtr, zeroPoint);
  if ('segs' in plan) convAcc(mem, plan, at, padPtr, accPtr);
  else depthwiseAcc(mem, plan, at, padPtr, accPtr);
  const [oh, ow, c] = plan.geo.outShape;
  const out = new Int32Array(oh * ow * c);
  for (let p = 0; p < oh * ow; p++) out.set(mem.i32.subarray(accPtr / 4 + p * plan.accStride, accPtr / 4 + p * plan.accStride + c), p * c);
  return out;
}

/** int32 accumulators [oh][ow][cout] of an int8 conv: bias + sum((x - zeroPoint) * w), padding = zeroPoint. */
export function convAccumulators(input: Int8Array, geo: ConvGeometry, weights: Int8Array, bias: Int32Array, zeroPoint: number, choice?: KernelChoice): Int32Array {
  return oneShot(planConv(geo, weights, bias, zeroPoint, choice), input, zeroPoint);
}

/** int32 accumulators of a depthwise conv whose input already has its channels repeated per multiplier. */
export function depthwiseAccumulators(input: Int8Array, geo: ConvGeometry, weights: Int8Array, bias: Int32Array, zeroPoint: number): Int32Array {
  return oneShot(planDepthwise(geo, weights, bias, zeroPoint), input, zeroPoint);
}

/** Requantizes [pixels][channels] accumulators to int8 with per-channel multipliers and one shift. */
export function requantize(acc: Int32Array, channels: number, multipliers: Int32Array, shift: number, zeroPoint: number, qmin = -128, qmax = 127): Int8Array {
  const pixels = acc.length / channels;
  const stride = Math.ceil(channels / 4) * 4;
  const layout = new Layout();
  const accPtr = layout.reserve(pixels * stride * 4);
  const multPtr = layout.reserve(stride * 4);
  const outPtr = layout.reserve(acc.length);
  const mem = new KernelMemory(layout.bytes);
  for (let p = 0; p < pixels; p++) mem.i32.set(acc.subarray(p * channels, (p + 1) * channels), accPtr / 4 + p * stride);
  mem.i32.set(multipliers, multPtr / 4);
  mem.k.requant(accPtr, outPtr, pixels, stride * 4, channels, multPtr, shift, zeroPoint, qmin, qmax);
  return mem.i8.slice(outPtr, outPtr + acc.length);
}

/** int8 'valid' max pooling of one [h, w, c] tensor. */
export function maxPoolInt8(input: Int8Array, inShape: Shape3, pool: Pair, strides: Pair): Int8Array {
  const [h, w, c] = inShape;
  const oh = Math.floor((h - pool[0]) / strides[0]) + 1;
  const ow = Math.floor((w - pool[1]) / strides[1]) + 1;
  const layout = new Layout();
  const inPtr = layout.reserve(input.length);
  const outPtr = layout.reserve(oh * ow * c);
  const mem = new KernelMemory(layout.bytes);
  mem.i8.set(input, inPtr);
  mem.k.maxpool(inPtr, outPtr, oh, ow, c, pool[0], pool[1], strides[0] * w * c, strides[1] * c, w * c);
  return mem.i8.slice(outPtr, outPtr + sizeOf([oh, ow, c]));
}
