/**
 * Convolution and pooling geometry with TensorFlow's padding rules, shared by the quantizer, the int8
 * runtime and the tests. Tensors are NHWC with batch 1; flat tensors are [1, 1, n].
 */

export type Shape3 = [number, number, number];
export type Pair = [number, number];

export interface ConvGeometry {
  inShape: Shape3;
  outShape: Shape3;
  kernel: Pair;
  strides: Pair;
  dilation: Pair;
  /** Zero padding [top, left, bottom, right] in input pixels. */
  pads: [number, number, number, number];
}

/** Number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A tensor shape without batch as [h, w, c]: rank 1 [n] -> [1, 1, n], rank 2 [a, b] -> [1, a, b]. */
export function toShape3(shape: readonly (number | null)[]): Shape3 {
  const dims = shape.map((d) => {
    if (d === null || !Number.isInteger(d) || d < 1) throw new Error(`toShape3: dimension ${d} in [${shape.join(', ')}] is not a positive integer`);
    return d;
  });
  if (dims.length === 1) return [1, 1, dims[0]];
  if (dims.length === 2) return [1, dims[0], dims[1]];
  if (dims.length === 3) return [dims[0], dims[1], dims[2]];
  throw new Error(`toShape3: rank ${dims.length} tensors (shape [${dims.join(', ')}]) are not supported; use rank 1 to 3 per sample`);
}

/**
 * Output shape and padding of a conv or pool, as tf.conv2d computes them: 'same' gives ceil(in / stride)
 * with the odd padding pixel at the bottom/right, 'valid' gives ceil((in - effectiveKernel + 1) / stride).
 */
export function convGeometry(inShape: Shape3, kernel: Pair, strides: Pair, dilation: Pair, padding: 'same' | 'valid', outChannels: number): ConvGeometry {
  const pads: [number, number, number, number] = [0, 0, 0, 0];
  const out: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const size = inShape[axis];
    const effective = (kernel[axis] - 1) * dilation[axis] + 1;
    if (padding === 'same') {
      const o = Math.ceil(size / strides[axis]);
      const total = Math.max((o - 1) * strides[axis] + effective - size, 0);
      pads[axis] = Math.floor(total / 2);
      pads[axis + 2] = total - pads[axis];
      out.push(o);
    } else {
      out.push(Math.ceil((size - effective + 1) / strides[axis]));
    }
  }
  if (out[0] < 1 || out[1] < 1) {
    throw new Error(`convGeometry: kernel [${kernel}] with dilation [${dilation}] does not fit input [${inShape}] under '${padding}' padding`);
  }
  return { inShape, outShape: [out[0], out[1], outChannels], kernel, strides, dilation, pads };
}

/** Height and width of the zero-point-padded input buffer a conv reads. */
export function paddedDims(g: ConvGeometry): Pair {
  return [g.inShape[0] + g.pads[0] + g.pads[2], g.inShape[1] + g.pads[1] + g.pads[3]];
}
