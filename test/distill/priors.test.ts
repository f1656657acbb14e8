/**
 * Coordinator-side image priors (total variation, mean square) and the student's learning-rate schedule:
 * hand-computed values, and validation that names the bad field.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { meanSquare, totalVariation } from '../../shared/distill/losses.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { studentLearningRate } from '../../coordinator/engine/steps.js';

describe('image priors', () => {
  it('total variation matches a hand-computed value', () => {
    // One 2x3 image: rows [0, 1, 1] and [0, 0, 1].
    // vertical |diffs|: 0, 1, 0 → mean 1/3; horizontal |diffs|: 1, 0, 0, 1 → mean 1/2.
    const x = tf.tensor4d([0, 1, 1, 0, 0, 1], [1, 2, 3, 1]);
    expect(totalVariation(x).dataSync()[0]).toBeCloseTo(1 / 3 + 1 / 2, 6);
    expect(totalVariation(tf.fill([2, 4, 4, 1], 0.7)).dataSync()[0]).toBeCloseTo(0, 6);
    expect(() => totalVariation(tf.zeros([2, 3]))).toThrow(/images/);
  });

  it('mean square is the mean of squared values', () => {
    expect(meanSquare(tf.tensor2d([1, 2, 0, -1], [2, 2])).dataSync()[0]).toBeCloseTo(6 / 4, 6);
  });

  it('imagePrior settings are validated with the field named', () => {
    expect(parseDistillConfig({}).imagePrior).toEqual(parseDistillConfig({ imagePrior: {} }).imagePrior);
    expect(parseDistillConfig({ imagePrior: { tv: 2 } }).imagePrior.tv).toBe(2);
    expect(() => parseDistillConfig({ imagePrior: { tv: -1 } })).toThrow(/distill.imagePrior.tv: must be a number >= 0, got -1/);
    expect(() => parseDistillConfig({ imagePrior: { l2: 'big' } })).toThrow(/distill.imagePrior.l2: must be a number >= 0/);
    expect(() => parseDistillConfig({ imagePrior: { tvl1: 1 } })).toThrow(/distill.imagePrior.tvl1: unknown setting/);
    expect(() => parseDistillConfig({ imagePrior: 3 })).toThrow(/distill.imagePrior: must be an object/);
  });
});

describe('student learning-rate schedule', () => {
  it('constant keeps studentLr; cosine decays from studentLr to 1% of it', () => {
    const constant = parseDistillConfig({ rounds: 4, studentSteps: 10, studentLr: 0.01 });
    expect(studentLearningRate(constant, 3, 5)).toBe(0.01);
    const cosine = parseDistillConfig({ rounds: 4, studentSteps: 10, studentLr: 0.01, studentLrSchedule: 'cosine' });
    expect(studentLearningRate(cosine, 1, 0)).toBeCloseTo(0.01, 10);
    expect(studentLearningRate(cosine, 4, 9)).toBeCloseTo(0.0001, 10);
    const mid = studentLearningRate(cosine, 2, 10 - 1);
    expect(mid).toBeGreaterThan(0.0001);
    expect(mid).toBeLessThan(0.01);
    expect(studentLearningRate(cosine, 3, 0)).toBeLessThan(studentLearningRate(cosine, 2, 0));
  });

  it('cooldown keeps studentLr until the last studentCooldownRounds rounds, then decays over their steps', () => {
    const cooldown = parseDistillConfig({ rounds: 5, studentSteps: 10, studentLr: 0.01, studentLrSchedule: 'cooldown', studentCooldownRounds: 2 });
    for (const [round, step] of [[1, 0], [2, 5], [3, 9]]) expect(studentLearningRate(cooldown, round, step)).toBe(0.01);
    // Rounds 4 and 5 are the cosine schedule of a 2-round run, step for step.
    const cosine = parseDistillConfig({ rounds: 2, studentSteps: 10, studentLr: 0.01, studentLrSchedule: 'cosine' });
    for (let r = 1; r <= 2; r++) for (let k = 0; k < 10; k++) expect(studentLearningRate(cooldown, r + 3, k)).toBe(studentLearningRate(cosine, r, k));
    expect(studentLearningRate(cooldown, 4, 0)).toBeCloseTo(0.01, 10);
    expect(studentLearningRate(cooldown, 5, 9)).toBeCloseTo(0.0001, 10);
    // Cooling down over every round is the cosine schedule.
    const whole = parseDistillConfig({ rounds: 5, studentSteps: 10, studentLr: 0.01, studentLrSchedule: 'cooldown', studentCooldownRounds: 5 });
    const all = parseDistillConfig({ rounds: 5, studentSteps: 10, studentLr: 0.01, studentLrSchedule: 'cosine' });
    for (let r = 1; r <= 5; r++) expect(studentLearningRate(whole, r, 3)).toBe(studentLearningRate(all, r, 3));
  });

  it('rejects an unknown schedule or a cooldown longer than the run naming the field', () => {
    expect(() => parseDistillConfig({ studentLrSchedule: 'step' })).toThrow(/distill.studentLrSchedule: must be one of constant, cosine, cooldown, got "step"/);
    expect(() => parseDistillConfig({ rounds: 4, studentLrSchedule: 'cooldown', studentCooldownRounds: 5 })).toThrow(/distill.studentCooldownRounds: must be an integer in 1..rounds \(4\)/);
    expect(() => parseDistillConfig({ studentCooldownRounds: 0 })).toThrow(/distill.studentCooldownRounds: must be an integer/);
    expect(() => parseDistillConfig({ studentCooldownRounds: 2.5 })).toThrow(/distill.studentCooldownRounds: must be an integer/);
  });

  it('rejects a bad batch-norm class mix or weight-average decay naming the field', () => {
    expect(() => parseDistillConfig({ bnClassMix: 'skewed' })).toThrow(/distill.bnClassMix: must be one of batch, own, class, got "skewed"/);
    expect(parseDistillConfig({ bnClassMix: 'class' }).bnClassMix).toBe('class');
    expect(() => parseDistillConfig({ studentEma: 1 })).toThrow(/distill.studentEma: must be a number in \[0, 1\)/);
    expect(parseDistillConfig({ bnClassMix: 'own', studentEma: 0.99 })).toMatchObject({ bnClassMix: 'own', studentEma: 0.99, studentEmaEvery: 'step' });
    expect(() => parseDistillConfig({ studentEma: 0.9, studentEmaEvery: 'epoch' })).toThrow(/distill.studentEmaEvery: must be 'step' or 'round', got "epoch"/);
    expect(parseDistillConfig({ studentEma: 0.9, studentEmaEvery: 'round' })).toMatchObject({ studentEmaEvery: 'round' });
  });

  it('rejects a bad generator restart period naming the field', () => {
    expect(() => parseDistillConfig({ generatorRestart: 2.5 })).toThrow(/distill.generatorRestart: must be an integer >= 0 \(rounds between generator restarts; 0: never\), got 2.5/);
    expect(() => parseDistillConfig({ generatorRestart: -1 })).toThrow(/distill.generatorRestart: must be an integer >= 0/);
    expect(parseDistillConfig({ generatorRestart: 15 }).generatorRestart).toBe(15);
    expect(parseDistillConfig({}).generatorRestart).toBe(0);
  });
});
