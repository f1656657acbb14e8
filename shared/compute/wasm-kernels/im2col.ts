/**
 * im2col / col2im for NHWC convolutions, with strides, dilations and padding.
 *
 * A patch-matrix row is one output position (n, oh, ow); its columns run over (fh, fw, c), the same order
 * as a [fh, fw, inC, outC] filter flattened to [K, outC]. With it a convolution and both of its gradients
 * become plain matrix products that the backend's XNNPACK kernel does fast. Both functions work on a
 * window of rows so callers can stream the (large) patch matrix through a cache-sized buffer.
 */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
}

/** Patch-matrix width K = filterH * filterW * inC. */
export function patchSize(g: ConvGeometry): number {
  return g.filterH * g.filterW * g.inC;
}

/** Patch-matrix height M = batch * outH * outW. */
export function patchRows(g: ConvGeometry): number {
  return g.batch * g.outH * g.outW;
}

/** A patch row's image n and output position (oh, ow). */
interface RowPosition {
  n: number;
  oh: number;
  ow: number;
}

/** Where patch row `row` is. */
function rowPosition(g: ConvGeometry, row: number): RowPosition {
  return { ow: row % g.outW, oh: Math.floor(row / g.outW) % g.outH, n: Math.floor(row / (g.outW * g.outH)) };
}

/** Moves `at` to the next patch row. */
function nextRow(at: RowPosition, outH: number, outW: number): void {
  if (++at.ow === outW) {
    at.ow = 0;
    if (++at.oh === outH) {
      at.oh = 0;
      at.n++;
    }
  }
}

/**
 * Fills `col` with rows [rowStart, rowStart + rowCount) of the patch matrix of the NHWC input `x`.
 *
 * Plain indexed loops with no callbacks or subarray views: this runs once per conv layer per training
 * step over millions of elements, and a typed-array view per tap (or a closure call per element) cost
 * two to three times the copy itself here. That is also why im2colTransposed and col2im spell out the
 * same traversal instead of sharing one that takes a per-tap callback.
 */
export function im2col(x: Float32Array, g: ConvGeometry, col: Float32Array, rowStart = 0, rowCount = patchRows(g)): void {
  const { inH, inW, inC, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const tapRun = filterW * inC;
  const at = rowPosition(g, rowStart);
  let o = 0;
  for (let r = 0; r < rowCount; r++) {
    const ih0 = at.oh * strideH - padTop;
    const iw0 = at.ow * strideW - padLeft;
    // With no dilation and the whole filter row inside the image, a filter row's taps are one contiguous run.
    const rowContiguous = dilationW === 1 && iw0 >= 0 && iw0 + filterW <= inW;
    for (let fh = 0; fh < filterH; fh++) {
      const ih = ih0 + fh * dilationH;
      if (ih < 0 || ih >= inH) {
        col.fill(0, o, o + tapRun);
        o += tapRun;
        continue;
      }
      const xRow = (at.n * inH + ih) * inW;
      if (rowContiguous) {
        const xo = (xRow + iw0) * inC;
        for (let k = 0; k < tapRun; k++) col[o + k] = x[xo + k];
        o += tapRun;
        continue;
      }
      for (let fw = 0; fw < filterW; fw++, o += inC) {
        const iw = iw0 + fw * dilationW;
        if (iw < 0 || iw >= inW) {
          for (let c = 0; c < inC; c++) col[o + c] = 0;
        } else {
          const xo = (xRow + iw) * inC;
          for (let c = 0; c < inC; c++) col[o + c] = x[xo + c];
        }
      }
    }
    nextRow(at, outH, outW);
  }
}

/**
 * The transpose of im2col's window: fills `colT` ([K, rowCount], row-major) with the patch matrix's rows
 * [rowStart, rowStart + rowCount) as columns. Conv2DBackpropFilter multiplies it by dy so that the
 * small dy window, not the wide patch window, is the matmul operand XNNPACK packs.
 */
export function im2colTransposed(x: Float32Array, g: ConvGeometry, colT: Float32Array, rowStart: number, rowCount: number): void {
  const { inH, inW, inC, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const tapRun = filterW * inC;
  const at = rowPosition(g, rowStart);
  for (let r = 0; r < rowCount; r++) {
    const ih0 = at.oh * strideH - padTop;
    const iw0 = at.ow * strideW - padLeft;
    const rowContiguous = dilationW === 1 && iw0 >= 0 && iw0 + filterW <= inW;
    let k = 0;
    for (let fh = 0; fh < filterH; fh++) {
      const ih = ih0 + fh * dilationH;
      if (ih < 0 || ih >= inH) {
        for (let j = 0; j < tapRun; j++, k++) colT[k * rowCount + r] = 0;
        continue;
      }
      const xRow = (at.n * inH + ih) * inW;
      if (rowContiguous) {
        const xo = (xRow + iw0) * inC;
        for (let j = 0; j < tapRun; j++, k++) colT[k * rowCount + r] = x[xo + j];
        continue;
      }
      for (let fw = 0; fw < filterW; fw++) {
        const iw = iw0 + fw * dilationW;
        const inside = iw >= 0 && iw < inW;
        const xo = (xRow + iw) * inC;
        for (let c = 0; c < inC; c++, k++) colT[k * rowCount + r] = inside ? x[xo + c] : 0;
      }
    }
    nextRow(at, outH, outW);
  }
}

/** Adds rows [rowStart, rowStart + rowCount) of a patch-matrix gradient onto the NHWC gradient `dx`. */
export function col2im(col: Float32Array, g: ConvGeometry, dx: Float32Array, rowStart = 0, rowCount = patchRows(g)): void {
  const { inH, inW, inC, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const tapRun = filterW * inC;
  const at = rowPosition(g, rowStart);
  let o = 0;
  for (let r = 0; r < rowCount; r++) {
    const ih0 = at.oh * strideH - padTop;
    const iw0 = at.ow * strideW - padLeft;
    const rowContiguous = dilationW === 1 && iw0 >= 0 && iw0 + filterW <= inW;
    for (let fh = 0; fh < filterH; fh++) {
      const ih = ih0 + fh * dilationH;
      if (ih < 0 || ih >= inH) {
        o += tapRun;
        continue;
      }
      const xRow = (at.n * inH + ih) * inW;
      if (rowContiguous) {
        const xo = (xRow + iw0) * inC;
        for (let k = 0; k < tapRun; k++) dx[xo + k] += col[o + k];
        o += tapRun;
        continue;
      }
      for (let fw = 0; fw < filterW; fw++, o += inC) {
        const iw = iw0 + fw * dilationW;
        if (iw < 0 || iw >= inW) continue;
        const xo = (xRow + iw) * inC;
        for (let c = 0; c < inC; c++) dx[xo + c] += col[o + c];
      }
    }
    nextRow(at, outH, outW);
  }
}
