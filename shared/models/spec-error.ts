/** Validation primitives shared by model-spec and layer validation. */

/** Thrown for an invalid spec; `path` names the offending field. */
export class SpecError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'SpecError';
  }
}

export function positiveInt(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new SpecError(path, `must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function rate(v: unknown, path: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new SpecError(path, `must be a number in [0, 1), got ${JSON.stringify(v)}`);
  return v;
}

