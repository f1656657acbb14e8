/** Writes a grid of grayscale (or first-channel) images to a PNG: one row per class, samples across. */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../fs/atomic.js';

export function writeImageGrid(file: string, images: Float32Array, sampleShape: number[], rows: number, cols: number, scale = 2): void {
  const [h, w, c] = sampleShape;
  const pad = 2;
  const width = cols * (w * scale + pad) + pad;
  const height = rows * (h * scale + pad) + pad;
  const png = new PNG({ width, height });
  png.data.fill(255);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const base = (r * cols + k) * h * w * c;
      for (let y = 0; y < h * scale; y++) {
        for (let x = 0; x < w * scale; x++) {
          const v = images[base + (Math.floor(y / scale) * w + Math.floor(x / scale)) * c];
          const byte = Math.max(0, Math.min(255, Math.round(v * 255)));
          const px = pad + k * (w * scale + pad) + x;
          const py = pad + r * (h * scale + pad) + y;
          const i = (py * width + px) * 4;
          png.data[i] = png.data[i + 1] = png.data[i + 2] = byte;
          png.data[i + 3] = 255;
        }
      }
    }
  }
  writeFileAtomic(file, PNG.sync.write(png));
}
