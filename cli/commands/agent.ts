/**
 * `distillery agent start --config agent.json`: runs the edge agent until SIGTERM or SIGINT.
 * `distillery agent train-teacher --config agent.json`: trains and stores the local teacher, then exits
 * (the daemon runs it as a child process; it is also a provisioning step of its own).
 * `distillery agent predict <file> --config agent.json`: predicts with the agent's current model, offline
 * (reads the agent's data directory; the daemon need not run). Options: docs/edge-agent.md.
 */
import type { Command } from '../command.js';
import { parseArgs, UsageError, type Flags } from '../args.js';
import { ConfigError, loadAgentConfig, type AgentConfig } from '../../edge-agent/agent/config.js';
import { Agent, trainTeacherOnly } from '../../edge-agent/agent/agent.js';
import { SampleError } from '../../edge-agent/agent/samples.js';
import { TeacherModelError } from '../../edge-agent/agent/teacher-source.js';
import { readPredictInputs } from '../../edge-agent/agent/predict-file.js';
import { floatPredictor, ServingSlot, type Predictor } from '../../edge-agent/agent/serving.js';
import { loadPublicIdentity } from '../../shared/security/keyfile.js';
import { loadModel } from '../../shared/models/store.js';
import { initBackend } from '../../shared/compute/backend.js';
import { argmaxRows, accuracy } from '../../shared/metrics/index.js';
import { softmaxRows } from '../../shared/math/softmax.js';
import { jsonLogger } from '../../shared/log.js';
import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const flags: Flags = {
  config: { type: 'string', description: 'agent.json (see docs/edge-agent.md)' },
  json: { type: 'boolean', description: 'predict: print one JSON object per sample' },
};

function config(path: unknown): AgentConfig {
  if (typeof path !== 'string') throw new UsageError('agent: --config <agent.json> is required');
  try {
    return loadAgentConfig(path);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`agent: ${e.message}`);
    throw e;
  }
}

/** Runs `agent train-teacher` in a child process (same entry script) and waits for it. */
function trainInChild(configFile: string): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'agent', 'train-teacher', '--config', configFile], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.once('error', reject);
      child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new UsageError(`agent: training the teacher failed (child exited with ${code ?? signal}); see the log above`))));
    });
}

async function start(c: AgentConfig, configFile: string): Promise<number> {
  const log = jsonLogger({ level: c.logLevel, base: { component: 'agent' } });
  let agent: Agent;
  try {
    agent = await Agent.start(c, { log, trainTeacher: trainInChild(configFile) });
  } catch (e) {
    if (e instanceof SampleError || e instanceof TeacherModelError || e instanceof ConfigError) throw new UsageError(`agent: ${e.message}`);
    throw e;
  }
  log.info('agent ready', { device: agent.identity.id, http: agent.httpUrl, model: agent.serving.active });
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130);
      log.info('stopping', { signal });
      void agent.stop().then(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

async function predict(c: AgentConfig, file: string, asJson: boolean): Promise<number> {
  const format = { sampleShape: c.data.sampleShape, numClasses: c.data.numClasses };
  let inputs;
  try {
    inputs = readPredictInputs(file, format, c.data.idxScale);
  } catch (e) {
    if (e instanceof SampleError) throw new UsageError(`agent predict: ${e.message}`);
    throw e;
  }
  const coordinator = c.coordinator && existsSync(c.coordinator.publicKey) ? await loadPublicIdentity(c.coordinator.publicKey) : undefined;
  const teacherDir = join(c.dataDir, 'teacher');
  let teacher: Predictor | undefined;
  const slot = new ServingSlot(c.dataDir, format, coordinator?.signPublicKey, (x) => {
    if (!teacher) throw new UsageError(`agent predict: no model yet in ${c.dataDir}: start the agent once so it trains or loads its teacher`);
    return teacher(x);
  }, () => {});
  slot.restore();
  if (slot.active.kind === 'teacher' && existsSync(join(teacherDir, 'model.json'))) {
    await initBackend(() => {});
    teacher = floatPredictor(await loadModel(teacherDir), format.sampleShape);
  }
  const { logits, model } = slot.predict(inputs.x);
  const k = format.numClasses;
  const labels = argmaxRows(logits, k);
  const probs = softmaxRows(logits, k);
  const out: string[] = [];
  labels.forEach((label, i) => {
    const p = probs[i * k + label];
    out.push(asJson ? JSON.stringify({ index: i, label, probability: Number(p.toFixed(6)), ...(inputs.y ? { expected: inputs.y[i] } : {}) }) : `${i}\t${label}\t${p.toFixed(4)}${inputs.y ? `\t(expected ${inputs.y[i]})` : ''}`);
  });
  console.log(out.join('\n'));
  const which = model.kind === 'int8' ? `int8 student ${model.modelId} v${model.version}` : 'local teacher (float; no student published yet)';
  const acc = inputs.y ? `, accuracy ${(accuracy(labels, inputs.y) * 100).toFixed(2)}% against the file's labels` : '';
  console.error(`${labels.length} predictions by the ${which}${acc}`);
  return 0;
}

export const agentCommand: Command = {
  name: 'agent',
  usage: 'distillery agent start --config agent.json | distillery agent predict <file> --config agent.json [--json] | distillery agent train-teacher --config agent.json',
  summary: 'run the edge agent (local teacher, queries, int8 inference, lifelong learning), or predict with its model',
  flags,
  async run(argv) {
    const p = parseArgs(argv, flags, 'agent');
    const [action, ...rest] = p.positional;
    if (action === 'start') {
      if (rest.length) throw new UsageError(`agent start: unexpected ${JSON.stringify(rest.join(' '))}`);
      return start(config(p.flags.config), p.flags.config as string);
    }
    if (action === 'train-teacher') {
      const c = config(p.flags.config);
      const log = jsonLogger({ level: c.logLevel, base: { component: 'agent-train' } });
      try {
        const t = await trainTeacherOnly(c, log);
        log.info('teacher ready', { origin: t.origin, dir: t.dir, peakRssMB: Math.round(peakRssMB()) });
      } catch (e) {
        if (e instanceof SampleError || e instanceof TeacherModelError) throw new UsageError(`agent: ${e.message}`);
        throw e;
      }
      return 0;
    }
    if (action === 'predict') {
      if (rest.length !== 1) throw new UsageError('agent predict: give exactly one input file (.json, .jsonl, .csv or IDX)');
      return predict(config(p.flags.config), rest[0], Boolean(p.flags.json));
    }
    throw new UsageError(`agent: expected "start", "predict" or "train-teacher", got ${JSON.stringify(p.positional.join(' ') || '(nothing)')}`);
  },
};

/** This process's peak RSS: VmHWM on Linux (ru_maxrss can carry a parent's peak across exec). */
function peakRssMB(): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  } catch {
    return process.resourceUsage().maxRSS / 1024;
  }
}

