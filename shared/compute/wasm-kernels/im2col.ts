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

/**
 * Visits rows [rowStart, rowStart + rowCount) of the patch matrix, calling `tap(colOffset, xOffset)` for each
 * filter tap inside the image (xOffset: first channel of that input pixel) and `pad(colOffset)` for taps
 * that fall in the padding. colOffset is relative to the window's first row.
 */
function forEachTap(
  g: ConvGeometry,
  rowStart: number,
  rowCount: number,
  tap: (colOffset: number, xOffset: number) => void,
  pad: (colOffset: number) => void,
): void {
  const { inH, inW, inC, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const K = patchSize(g);
  let ow = rowStart % outW;
  let oh = Math.floor(rowStart / outW) % outH;
  let n = Math.floor(rowStart / (outW * outH));
  for (let r = 0; r < rowCount; r++) {
    const ih0 = oh * strideH - padTop;
    const iw0 = ow * strideW - padLeft;
    let colOffset = r * K;
    for (let fh = 0; fh < filterH; fh++) {
      const ih = ih0 + fh * dilationH;
      const rowInside = ih >= 0 && ih < inH;
      const xRow = (n * inH + ih) * inW;
      for (let fw = 0; fw < filterW; fw++, colOffset += inC) {
        const iw = iw0 + fw * dilationW;
        if (rowInside && iw >= 0 && iw < inW) tap(colOffset, (xRow + iw) * inC);
        else pad(colOffset);
      }
    }
    if (++ow === outW) {
      ow = 0;
      if (++oh === outH) {
        oh = 0;
        n++;
      }
    }
  }
}

/** Fills `col` with rows [rowStart, rowStart + rowCount) of the patch matrix of the NHWC input `x`. */
export function im2col(x: Float32Array, g: ConvGeometry, col: Float32Array, rowStart = 0, rowCount = patchRows(g)): void {
  const inC = g.inC;
  if (inC === 1) {
    forEachTap(g, rowStart, rowCount, (o, xo) => { col[o] = x[xo]; }, (o) => { col[o] = 0; });
    return;
  }
  forEachTap(
    g,
    rowStart,
    rowCount,
    (o, xo) => col.set(x.subarray(xo, xo + inC), o),
    (o) => col.fill(0, o, o + inC),
  );
}

/** Adds rows [rowStart, rowStart + rowCount) of a patch-matrix gradient onto the NHWC gradient `dx`. */
export function col2im(col: Float32Array, g: ConvGeometry, dx: Float32Array, rowStart = 0, rowCount = patchRows(g)): void {
  const inC = g.inC;
  forEachTap(
    g,
    rowStart,
    rowCount,
    (o, xo) => {
      for (let c = 0; c < inC; c++) dx[xo + c] += col[o + c];
    },
    () => {},
  );
}
