/**
 * An agent whose teacher has batch norm answers bnClassMix 'class' queries from per-class statistics of its own
 * samples, and re-measures them after a lifelong update changed the teacher.
 */
import { describe, expect, it } from 'vitest';
import { subset } from '../../../shared/data/dataset.js';
import { teacherClassStats } from '../../../edge-agent/teacher/class-stats.js';
import type { GradientQuery } from '../../../shared/distill/port.js';
import { agentFixture, agentTestContext, Agent } from './fixture.js';

const ctx = agentTestContext('distillery-agent-classbn-');

describe('edge agent with a batch-norm teacher', () => {
  it('serves per-class BN queries from its own samples and re-measures the statistics after learning', async () => {
    const [tmp, train] = [ctx.tmp, ctx.train()];
    const fx = await agentFixture(tmp, train, 300, { teacher: { spec: { kind: 'mlp', hidden: [16], batchNorm: true }, epochs: 3 }, lifelong: { updateEvery: 1_000_000, epochs: 1 } });
    const agent = ctx.track(await Agent.start(fx.config));
    const probe = subset(train, [900, 901, 902, 903]);
    const query: GradientQuery = { inputs: { shape: [4, 8, 8, 1], values: probe.x }, targets: Int32Array.from(probe.y), weights: { ce: 0, bn: 1, adv: 0 }, bnClassMix: 'class' };
    // The statistics it serves with are those of its training split (all of it in the lifelong memory, which
    // holds 1,000) under its own teacher: not of the held-out slice.
    const learner = agent['learner']!;
    const served = () => (agent.teacher as unknown as { classStats: { counts: number[]; stats: { mean: { dataSync(): Float32Array } }[] } }).classStats;
    const initial = teacherClassStats(agent.teacher['model'], learner.buffer.toDataset(fx.config.data))!;
    expect(served().counts).toEqual(initial.counts);
    expect(initial.counts.reduce((a, b) => a + b, 0)).toBeLessThan(300);
    Array.from(served().stats[0].mean.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(initial.layers[0].mean[i], 3));
    const before = (await agent.teacher.gradient(query)).loss.bn;
    expect(before).toBeGreaterThan(0);
    const rows = Array.from({ length: 100 }, (_, i) => 300 + i);
    agent.ingest(rows.map((r) => ({ x: Array.from(train.x.subarray(r * 64, (r + 1) * 64)), y: train.y[r] })));
    await agent.learn();
    // After the update the statistics are re-measured on the replay memory with the updated teacher.
    const remeasured = teacherClassStats(agent.teacher['model'], learner.buffer.toDataset(fx.config.data))!;
    expect(served().counts).toEqual(remeasured.counts);
    expect(remeasured.counts.reduce((a, b) => a + b, 0)).toBe(initial.counts.reduce((a, b) => a + b, 0) + 100);
    Array.from(served().stats[0].mean.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(remeasured.layers[0].mean[i], 3));
    const after = (await agent.teacher.gradient(query)).loss.bn;
    expect(after).not.toBeCloseTo(before, 4);
  }, 120_000);
});
