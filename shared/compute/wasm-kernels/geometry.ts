/** Turns TF.js kernel attributes into the plain geometry the loops use; rejects what they cannot do. */
import { backend_util } from '@tensorflow/tfjs';
import type { ConvGeometry } from './im2col.js';

type Pair = number | [number, number];
export interface ConvAttrs {
  strides: Pair;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: Pair;
}

export function convGeometry(
  kernel: string,
  inShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): { geometry: ConvGeometry; info: backend_util.Conv2DInfo } {
  if (attrs.dataFormat === 'NCHW') {
    throw new Error(`${kernel} on wasm: dataFormat 'NCHW' is not supported by Distillery's kernels; use 'NHWC' (channelsLast)`);
  }
  const info = backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
  const geometry: ConvGeometry = {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    filterH: info.filterHeight,
    filterW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilationH: info.dilationHeight,
    dilationW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  return { geometry, info };
}
