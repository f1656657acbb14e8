/**
 * The fleet as the coordinator's main thread sees it: answers what devices send (enrollment, capability
 * reports, telemetry, pings), tracks who is online, and asks every active device that comes up for its
 * capabilities, so a job knows each teacher's label histogram before it queries it.
 */
import type { Clock } from '../shared/protocol/clock.js';
import type { AnyEnvelope, Draft } from '../shared/protocol/envelope.js';
import { CATALOG, type CapabilitiesReportBody } from '../shared/protocol/messages.js';
import { answerEnrollment } from '../shared/security/enrollment.js';
import { Listeners } from '../shared/transport/link.js';
import type { Transport } from '../shared/transport/transport.js';
import type { StructuredLogger } from '../shared/log.js';
import type { DeviceView, FleetStore } from './store.js';
import type { ModelRegistry } from './model-registry.js';

/** Options of {@link FleetManager}. */
export interface FleetOptions {
  store: FleetStore;
  transport: Transport;
  fleet: string;
  clock: Clock;
  log: StructuredLogger;
  /** Accept new devices without approval (development only). */
  autoApprove?: boolean;
  /** Deadline of a capabilities probe (ms). */
  probeTimeoutMs?: number;
  /** How often online devices still lacking capabilities are asked again (ms). */
  sweepMs?: number;
  /** Answers model.fetch when set. */
  models?: ModelRegistry;
}

/** A device as the API and the job see it: the stored view plus liveness and its last telemetry. */
export interface FleetDevice extends DeviceView {
  online: boolean;
  telemetry?: Record<string, number>;
}

/** Device-facing message handling and liveness. */
export class FleetManager {
  private readonly online = new Set<string>();
  private readonly telemetry = new Map<string, Record<string, number>>();
  private readonly changes = new Listeners<string>();
  private readonly probing = new Set<string>();

  private readonly sweep: ReturnType<typeof setInterval>;

  constructor(private readonly o: FleetOptions) {
    // A probe can fail (a busy device, a reply lost in a reconnect); a device must not stay unusable for it.
    this.sweep = setInterval(() => {
      for (const id of this.online) if (o.store.lookup(id)?.status === 'active' && !o.store.device(id)?.capabilities) void this.probe(id);
    }, o.sweepMs ?? 5000);
    this.sweep.unref();
    o.transport.onEvent((e) => {
      if (e.type === 'up' && e.peer !== undefined) this.seen(e.peer);
      else if (e.type === 'down' && e.peer !== undefined && this.online.delete(e.peer)) {
        o.log.info('device offline', { device: e.peer, reason: e.reason });
        this.changes.emit(e.peer);
      }
    });
  }

  /** Stops the background probes. */
  close(): void {
    clearInterval(this.sweep);
  }

  /** Called with a device id whenever its state, capabilities or liveness changes. */
  onChange(listener: (id: string) => void): () => void {
    return this.changes.add(listener);
  }

  /** Is this device connected now (as far as its link knows)? */
  isOnline(id: string): boolean {
    return this.online.has(id);
  }

  /** Every known device, with liveness. */
  devices(): FleetDevice[] {
    return this.o.store.devices().map((d) => ({ ...d, online: this.online.has(d.id), ...(this.telemetry.has(d.id) ? { telemetry: this.telemetry.get(d.id) } : {}) }));
  }

  /** Active, online devices that reported capabilities: the ones a round can ask. */
  ready(): FleetDevice[] {
    return this.devices().filter((d) => d.status === 'active' && d.online && d.capabilities);
  }

  /** Marks a device online (a frame or link event proved it) and probes its capabilities once. */
  private seen(id: string): void {
    if (this.online.has(id)) return;
    this.online.add(id);
    this.o.log.info('device online', { device: id });
    this.changes.emit(id);
    if (this.o.store.lookup(id)?.status === 'active') void this.probe(id);
  }

  /** Asks a device for its capabilities and stores them; failures are logged, never thrown. */
  async probe(id: string): Promise<CapabilitiesReportBody | undefined> {
    if (this.probing.has(id)) return undefined;
    this.probing.add(id);
    try {
      const reply = await this.o.transport.request(id, { type: 'capabilities.query', body: {} }, { timeoutMs: this.o.probeTimeoutMs ?? 10_000 });
      if (reply.type !== 'capabilities.report') throw new Error(reply.type === 'error' ? `${reply.body.code}: ${reply.body.reason}` : `answered ${reply.type}`);
      this.capabilities(id, reply.body);
      return reply.body;
    } catch (e) {
      this.o.log.warn('capabilities probe failed', { device: id, error: (e as Error).message });
      return undefined;
    } finally {
      this.probing.delete(id);
    }
  }

  private capabilities(id: string, caps: CapabilitiesReportBody): void {
    this.o.store.setCapabilities(id, caps, this.o.clock.now());
    this.o.log.info('device capabilities', { device: id, numClasses: caps.numClasses, inputShape: caps.inputShape, samples: caps.labelHistogram.reduce((a, b) => a + b, 0), gradients: caps.gradients, backend: caps.backend });
    this.changes.emit(id);
  }

  /** The transport handler for messages devices send on their own. */
  readonly handle = async (msg: AnyEnvelope): Promise<Draft | undefined> => {
    if (msg.type !== 'enroll.request') this.seen(msg.sender);
    switch (msg.type) {
      case 'enroll.request': {
        const { store, clock } = this.o;
        if (this.o.autoApprove && msg.keys && !store.lookup(msg.sender))
          store.preapprove({ id: msg.sender, signPublicKey: msg.keys.sign, boxPublicKey: msg.keys.box }, clock.now());
        const reply = answerEnrollment(store, msg, { fleet: this.o.fleet, clock });
        this.o.log.info('enrollment', { device: msg.sender, outcome: reply.type === 'error' ? reply.body.code : reply.type, platform: msg.body.platform });
        if (reply.type === 'enroll.accept') {
          this.changes.emit(msg.sender);
          // After the reply is on its way: the device must hear it is enrolled before it is questioned.
          setImmediate(() => (this.online.has(msg.sender) ? void this.probe(msg.sender) : this.seen(msg.sender)));
        }
        return reply;
      }
      case 'capabilities.report':
        this.capabilities(msg.sender, msg.body);
        return undefined;
      case 'telemetry.report':
        this.telemetry.set(msg.sender, msg.body.metrics);
        return undefined;
      case 'health.ping':
        return { type: 'health.pong', body: {} };
      case 'model.fetch': {
        const body = this.o.models?.publishBody(msg.body.modelId, msg.body.version);
        if (!body) return { type: 'error', body: { code: 'unknown_model', reason: `no version ${msg.body.version ?? '(latest)'} of model ${msg.body.modelId}; known models: ${this.o.models?.models().join(', ') || 'none'}` } };
        return { type: 'model.publish', body };
      }
      case 'model.ack':
        this.o.log.info('model acknowledged', { device: msg.sender, modelId: msg.body.modelId, version: msg.body.version });
        return undefined;
      default:
        if (CATALOG[msg.type].expectsReply) return { type: 'error', body: { code: 'unsupported', reason: `the coordinator does not accept ${msg.type} from devices` } };
        return undefined;
    }
  };
}
