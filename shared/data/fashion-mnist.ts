/**
 * Fashion-MNIST (Xiao et al. 2017): 60,000 training and 10,000 test 28x28 grayscale images, 10 classes, MIT
 * licence. Read from FASHION_MNIST_DIR, else from Debian's `dataset-fashion-mnist` package location.
 */
import { join } from 'node:path';
import { DataError, type Dataset } from './dataset.js';
import { readIdxFile } from './idx.js';

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
const HOW_TO_GET =
  'Install Debian\'s package with `sudo apt-get install dataset-fashion-mnist` (files land in ' +
  `${FASHION_MNIST_DEFAULT_DIR}), or set FASHION_MNIST_DIR to a folder holding the four *-ubyte.gz files`;

export type FashionMnistSplit = 'train' | 'test';

/** The folder loaders read from: FASHION_MNIST_DIR when set, else the Debian package's folder. */
export function fashionMnistDir(): string {
  return process.env.FASHION_MNIST_DIR || FASHION_MNIST_DEFAULT_DIR;
}

/**
 * Loads one split with pixels scaled to [0, 1]. `limit` keeps only the first n samples (for quick tests).
 */
export function loadFashionMnist(split: FashionMnistSplit, options: { dir?: string; limit?: number } = {}): Dataset {
  const dir = options.dir ?? fashionMnistDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  const imageFile = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelFile = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  const images = readIdxFile(imageFile, HOW_TO_GET);
  const labels = readIdxFile(labelFile, HOW_TO_GET);
  if (images.shape.length !== 3 || images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new DataError('corrupt-file', `${imageFile}: expected images of shape [n, 28, 28], found [${images.shape.join(', ')}]`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new DataError('corrupt-file', `${labelFile}: ${labels.shape[0]} labels for ${images.shape[0]} images in ${imageFile}`);
  }
  const n = Math.min(images.shape[0], options.limit ?? Infinity);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i] / 255;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = labels.data[i];
    if (label > 9) throw new DataError('corrupt-file', `${labelFile}: label ${label} at index ${i} is outside 0..9`);
    y[i] = label;
  }
  return { name: `fashion-mnist/${split}`, sampleShape: [28, 28, 1], x, y, numClasses: 10, classNames: FASHION_MNIST_CLASSES };
}
