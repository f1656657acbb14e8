import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { WeightAverage } from '../../coordinator/engine/averaging.js';

function tinyModel(): tf.LayersModel {
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2] })] });
  m.setWeights([tf.tensor2d([[1, 2], [3, 4]]), tf.tensor1d([0, 0])]);
  return m;
}

const values = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

describe('WeightAverage', () => {
  it('follows average ← d·average + (1 − d)·weights (hand-computed)', () => {
    const m = tinyModel();
    const avg = new WeightAverage(m, 0.75);
    m.setWeights([tf.tensor2d([[5, 6], [7, 8]]), tf.tensor1d([4, -4])]);
    avg.update(); // 0.75·[1,2,3,4] + 0.25·[5,6,7,8] = [2,3,4,5]; 0.25·[4,-4] = [1,-1]
    expect(avg.arrays().map((a) => Array.from(a.values))).toEqual([[2, 3, 4, 5], [1, -1]]);
    avg.update(); // 0.75·[2,3,4,5] + 0.25·[5,6,7,8] = [2.75,3.75,4.75,5.75]; 0.75·[1,-1] + 0.25·[4,-4] = [1.75,-1.75]
    expect(avg.arrays().map((a) => Array.from(a.values))).toEqual([[2.75, 3.75, 4.75, 5.75], [1.75, -1.75]]);
  });

  it('lends the average to the model for a call and puts the training weights back, even on error', async () => {
    const m = tinyModel();
    const avg = new WeightAverage(m, 0.5);
    m.setWeights([tf.tensor2d([[3, 4], [5, 6]]), tf.tensor1d([2, 2])]);
    avg.update();
    const x = tf.tensor2d([[1, 1]]);
    const inside = await avg.withAverage(() => Array.from((m.predict(x) as tf.Tensor).dataSync()));
    expect(inside).toEqual([2 + 4 + 1, 3 + 5 + 1]); // average weights [[2,3],[4,5]], bias [1,1]
    expect(values(m.getWeights())).toEqual([[3, 4, 5, 6], [2, 2]]);
    await expect(avg.withAverage(() => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(values(m.getWeights())).toEqual([[3, 4, 5, 6], [2, 2]]);
    avg.install();
    expect(values(m.getWeights())).toEqual([[2, 3, 4, 5], [1, 1]]);
  });

  it('restores checkpointed arrays and rejects ones of another model or a bad decay', () => {
    const m = tinyModel();
    const avg = new WeightAverage(m, 0.9);
    avg.restore([{ shape: [2, 2], values: Float32Array.of(9, 8, 7, 6) }, { shape: [2], values: Float32Array.of(1, 2) }]);
    expect(avg.arrays().map((a) => Array.from(a.values))).toEqual([[9, 8, 7, 6], [1, 2]]);
    expect(() => avg.restore([{ shape: [2], values: Float32Array.of(1, 2) }])).toThrow(/1 arrays for a model with 2 weights/);
    expect(() => avg.restore([{ shape: [3], values: Float32Array.of(1, 2, 3) }, { shape: [2], values: Float32Array.of(1, 2) }])).toThrow(/array 0 has 3 values, the model's weight 4/);
    expect(() => new WeightAverage(m, 1)).toThrow(/decay must lie in \(0, 1\), got 1/);
  });
});
