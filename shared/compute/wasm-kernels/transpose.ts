/** Cache-blocked transpose of a row-major [rows, cols] matrix into [cols, rows]. */
const BLOCK = 32;

export function transpose2d(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(r0 + BLOCK, rows);
    for (let c0 = 0; c0 < cols; c0 += BLOCK) {
      const c1 = Math.min(c0 + BLOCK, cols);
      for (let r = r0; r < r1; r++) {
        const srcRow = r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[srcRow + c];
      }
    }
  }
}
