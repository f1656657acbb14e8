/** Typed errors of the quantizer and the int8 file format; `code` lets callers branch without parsing text. */

export type QuantizeErrorCode = 'unsupported-layer' | 'out-of-range' | 'bad-calibration' | 'bad-input';

/** A model or calibration set the quantizer cannot handle; the message names the layer or argument. */
export class QuantizeError extends Error {
  constructor(
    readonly code: QuantizeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QuantizeError';
  }
}

export type QuantFormatErrorCode = 'bad-magic' | 'unsupported-version' | 'truncated' | 'bad-header';

/** An int8 model file that is refused; the message names the offending field and value. */
export class QuantFormatError extends Error {
  constructor(
    readonly code: QuantFormatErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QuantFormatError';
  }
}
