/**
 * `distillery coordinator start [--config coordinator.json]`: runs the coordinator service until SIGTERM
 * or SIGINT, which finish and checkpoint the round in progress before closing connections (a second
 * signal exits at once; the last checkpoint stays valid). Options: docs/coordinator.md.
 */
import type { Command } from '../command.js';
import { numberFlag, parseArgs, UsageError, type Flags } from '../args.js';
import { ConfigError, loadCoordinatorConfig } from '../../coordinator/config.js';

const flags: Flags = {
  config: { type: 'string', description: 'coordinator.json (default: embedded defaults, see docs/coordinator.md)' },
  'exit-when-done': { type: 'boolean', description: 'exit once the distillation job has finished (batch runs, CI)' },
  grace: { type: 'string', description: 'seconds a shutdown waits for the round in progress before terminating it', default: '30' },
};

export const coordinatorCommand: Command = {
  name: 'coordinator',
  usage: 'distillery coordinator start [--config coordinator.json] [--exit-when-done]',
  summary: 'run the coordinator service: fleet registry, rounds over ws and MQTT, checkpoints',
  flags,
  async run(argv) {
    const p = parseArgs(argv, flags, 'coordinator');
    const [action, ...extra] = p.positional;
    if (action !== 'start' || extra.length) throw new UsageError(`coordinator: expected "start", got ${JSON.stringify(p.positional.join(' ') || '(nothing)')}`);
    const graceMs = (numberFlag(p, 'grace', 'coordinator') ?? 30) * 1000;
    let config;
    try {
      config = loadCoordinatorConfig(p.flags.config as string | undefined);
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(`coordinator: ${e.message}`);
      throw e;
    }
    // Signals are handled from here on, start-up included: a SIGTERM that arrives while (or just after) the
    // coordinator comes up stops it gracefully once it is up, instead of killing the process outright.
    let signals = 0;
    let stopNow: (() => void) | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130); // a second signal: stop waiting; the checkpoint on disk is complete
      process.stderr.write(`distillery coordinator: ${signal}, finishing the round in progress (signal again to exit now)\n`);
      stopNow?.();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    let coordinator;
    try {
      const { startCoordinator } = await loadService();
      coordinator = await startCoordinator(config);
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(`coordinator: ${e.message}`);
      throw e;
    }
    const c = coordinator;
    await new Promise<void>((resolve) => {
      stopNow = () => void c.stop(graceMs).then(resolve);
      if (signals > 0) stopNow();
      if (p.flags['exit-when-done']) void c.job.then(() => c.stop(graceMs)).then(resolve);
    });
    return 0;
  },
};

/**
 * The service is imported when the command runs, not when the CLI starts: it needs better-sqlite3, an
 * optional native addon that devices installing with --omit=optional (a Raspberry Pi agent) do not have.
 */
async function loadService(): Promise<typeof import('../../coordinator/service.js')> {
  try {
    return await import('../../coordinator/service.js');
  } catch (e) {
    if (/better-sqlite3|better_sqlite3/.test(String((e as Error).message)))
      throw new UsageError(`coordinator: the fleet registry needs better-sqlite3, which is not installed or not built (${(e as Error).message.split('\n')[0]}); run \`npm install better-sqlite3\` on a machine with python3, make and g++`);
    throw e;
  }
}

