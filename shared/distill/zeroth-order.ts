/**
 * Zeroth-order gradients for black-box teachers that only return logits (DFME, Truong et al., CVPR 2021).
 *
 * For each sample, the device-side loss is evaluated at x and at x + μ·u_k for K random unit directions u_k;
 * the forward-difference estimate is  ĝ = (d / K) Σ_k (L(x + μu_k) − L(x)) / μ · u_k.
 * The probes go down in one logits query, so a step still costs one round trip. `seeded` (the default) sends
 * x once with a seed and the device expands the K + 1 probes itself (shared/distill/probes.ts): the same
 * answers for about 1/(K + 1) of the downlink. Without it the coordinator sends every probe, at K + 1 times
 * the bytes, for devices that answer plain logits queries only. The BN term is unavailable (it needs internal
 * activations) and is dropped.
 * A query's smoothGrad is not applied: the random probes already smooth the loss at the scale μ, and noisy
 * copies would multiply the probes' bytes again.
 */
import { softmaxRows, logSoftmaxRows } from '../math/softmax.js';
import type { GradientQuery, GradientReply, LogitsReply, TeacherPort } from './port.js';
import { expandProbes, probeSeed, seededProbeDirections, type ProbeSpec } from './probes.js';

export interface ZerothOrderOptions {
  directions: number;
  /** Finite-difference step. */
  mu: number;
  /** The run's seed; each query's probe seed is derived from it, the device and the inputs (probeSeed). */
  seed: number;
  /** Send the probe seed and let the device expand the probes (default true); false sends every probe. */
  seeded?: boolean;
}

/**
 * Per-row device loss from logits (weighted CE on the target, or per-class weighted CE, minus adv · L1 to the
 * student), each already divided by n; and, for the report, the mean CE and L1 terms over the first n rows (x).
 */
function sampleLosses(logits: Float32Array, q: GradientQuery, C: number): { losses: Float64Array; ce: number; adv: number } {
  const n = q.targets.length;
  const losses = new Float64Array(logits.length / C);
  const logp = logSoftmaxRows(logits, C);
  const p = softmaxRows(logits, C);
  let ceAtX = 0;
  let advAtX = 0;
  // The focal weights (1 − p_y)^γ are constants of the loss, taken at x (the first n rows), so every probe of a
  // sample shares its sample's weight, as the white-box device holds them constant in its gradient.
  const focal = q.ceFocal ? Float64Array.from({ length: n }, (_, i) => Math.pow(Math.max(0, 1 - p[i * C + q.targets[i]]), q.ceFocal!)) : undefined;
  for (let r = 0; r < losses.length; r++) {
    const i = r % n;
    let ce = 0;
    if (q.classWeights) for (let c = 0; c < C; c++) ce -= q.classWeights.values[i * C + c] * logp[r * C + c];
    else ce = -(q.sampleWeights ? q.sampleWeights[i] : 1) * logp[r * C + q.targets[i]];
    if (focal) ce *= focal[i];
    let loss = (q.weights.ce * ce) / n;
    let l1 = 0;
    if (q.weights.adv && q.studentProbs) {
      for (let c = 0; c < C; c++) l1 += Math.abs(p[r * C + c] - q.studentProbs.values[i * C + c]);
      loss -= (q.weights.adv * l1) / n;
    }
    losses[r] = loss;
    if (r < n) {
      ceAtX += ce / n;
      advAtX += l1 / n;
    }
  }
  return { losses, ce: ceAtX, adv: advAtX };
}

/** Wraps a logits-only port so that gradient() works through forward differences. */
export function zerothOrderPort(inner: TeacherPort, o: ZerothOrderOptions): TeacherPort {
  return {
    deviceId: inner.deviceId,
    info: async () => ({ ...(await inner.info()), gradients: true }),
    logits: (q) => inner.logits(q),
    async gradient(q): Promise<GradientReply> {
      const [n, ...sample] = q.inputs.shape;
      const d = sample.reduce((a, b) => a * b, 1);
      const K = o.directions;
      const probes: ProbeSpec = { directions: K, mu: o.mu, seed: probeSeed(o.seed, inner.deviceId, q.inputs.values) };
      const dirs = seededProbeDirections(n, d, probes);
      // Both ways the device evaluates the same probes, so the two give the same estimate, bit for bit.
      const reply: LogitsReply = await inner.logits(o.seeded ?? true ? { inputs: q.inputs, probes } : { inputs: expandProbes(q.inputs, o.mu, dirs) });
      if (reply.logits.shape[0] !== (K + 1) * n)
        throw new Error(`device ${inner.deviceId}: ${reply.logits.shape[0]} rows of logits for ${(K + 1) * n} probes`);
      const C = reply.logits.shape[1];
      const { losses, ce, adv } = sampleLosses(reply.logits.values, q, C);
      const grad = new Float32Array(n * d);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < n; i++) {
          const scale = (d / K) * ((losses[(k + 1) * n + i] - losses[i]) / o.mu);
          for (let j = 0; j < d; j++) grad[i * d + j] += scale * dirs[(k * n + i) * d + j];
        }
      }
      return {
        logits: { shape: [n, C], values: reply.logits.values.slice(0, n * C) },
        inputGradient: { shape: [...q.inputs.shape], values: grad },
        // The terms' values at x, unweighted, as a white-box device reports them (the BN term is unavailable).
        loss: { ce, bn: 0, adv },
      };
    },
  };
}
