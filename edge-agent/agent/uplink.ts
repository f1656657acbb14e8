/**
 * The agent's connection to its coordinator: connects over ws or MQTT with the agent's key, pins the
 * coordinator's public identity, enrolls and reports capabilities, and keeps doing so across coordinator
 * restarts and network loss. The first connection is retried forever with backoff (an agent that boots
 * while the network is down must come up on its own later); after that the link reconnects by itself and
 * every reconnect re-enrolls. Nothing here blocks local serving: the agent starts without a coordinator.
 */
import type { Identity, PublicIdentity } from '../../shared/security/keys.js';
import { pinnedDirectory, SecureChannel } from '../../shared/security/index.js';
import { backoffDelay, connectMqttSpoke, connectWsSpoke, createTransport, type Handler, type Link, type Transport } from '../../shared/transport/index.js';
import type { Draft } from '../../shared/protocol/envelope.js';

export interface UplinkOptions {
  url: string;
  fleet: string;
  identity: Identity;
  coordinator: PublicIdentity;
  backoff: { initialMs: number; maxMs: number };
  requestTimeoutMs: number;
  /** Answers everything the coordinator sends. */
  handler: Handler;
  /** The capabilities.report body to send after each enrollment. */
  capabilities: () => Promise<Draft>;
  platform: string;
  /** A one-time enrollment token from the coordinator's operator (POST /api/tokens); without it, approval is manual. */
  enrollmentToken?: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Opens the link; default: ws or MQTT spoke by URL scheme (tests may wire memory links). */
  connect?: () => Promise<Link>;
}

export type UplinkState = 'connecting' | 'enrolling' | 'pending' | 'enrolled' | 'offline' | 'stopped';

export class Uplink {
  private transport?: Transport;
  private stopped = false;
  private enrolling?: Promise<void>;
  private timer?: ReturnType<typeof setTimeout>;
  state: UplinkState = 'connecting';
  /** Time of the last successful enrollment. */
  enrolledAt?: number;

  constructor(private readonly o: UplinkOptions) {}

  /** Starts connecting in the background; resolves at once. */
  start(): void {
    void this.connectLoop();
  }

  /** The transport once connected (for telemetry); undefined before. */
  get connected(): Transport | undefined {
    return this.state === 'enrolled' ? this.transport : undefined;
  }

  private openLink(): Promise<Link> {
    if (this.o.connect) return this.o.connect();
    const { url, identity, coordinator, backoff } = this.o;
    return url.startsWith('ws')
      ? connectWsSpoke({ url, id: identity.id, hubId: coordinator.id, backoff, connectTimeoutMs: 10_000 })
      : connectMqttSpoke({ url, fleet: this.o.fleet, id: identity.id, hubId: coordinator.id, backoff, connectTimeoutMs: 10_000 });
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const link = await this.openLink();
        if (this.stopped) return void (await link.close());
        const logger = { warn: (m: string, f?: Record<string, unknown>) => this.o.log(m, f) };
        const channel = new SecureChannel({ identity: this.o.identity, directory: pinnedDirectory([this.o.coordinator]), logger });
        const transport = createTransport(link, channel, { timeoutMs: this.o.requestTimeoutMs, logger });
        this.transport = transport;
        transport.handle(this.o.handler);
        transport.onEvent((e) => {
          if (e.type === 'down') {
            if (this.state !== 'stopped') this.state = 'offline';
            this.o.log('coordinator link down', { reason: e.reason });
          } else if (e.type === 'up') {
            this.o.log('coordinator link up');
            this.enroll();
          } else if (e.type === 'rejected') this.o.log('frame rejected', { code: e.code, reason: e.reason });
        });
        this.enroll();
        return;
      } catch (e) {
        this.state = 'offline';
        const wait = backoffDelay(attempt, this.o.backoff);
        this.o.log('coordinator unreachable; retrying', { url: this.o.url, attempt, retryMs: Math.round(wait), error: (e as Error).message });
        await new Promise<void>((r) => (this.timer = setTimeout(r, wait)));
      }
    }
  }

  private enroll(): void {
    if (this.enrolling || this.stopped) return;
    this.enrolling = this.enrollLoop().finally(() => (this.enrolling = undefined));
  }

  /** Enrolls, then reports capabilities unprompted; retried with backoff until the coordinator accepts. */
  private async enrollLoop(): Promise<void> {
    const t = this.transport!;
    const to = this.o.coordinator.id;
    for (let attempt = 0; !this.stopped; attempt++) {
      this.state = 'enrolling';
      try {
        const r = await t.request(to, { type: 'enroll.request', body: { platform: this.o.platform, ...(this.o.enrollmentToken ? { token: this.o.enrollmentToken } : {}) } }, { timeoutMs: Math.min(10_000, this.o.requestTimeoutMs) });
        if (r.type === 'enroll.accept') {
          this.state = 'enrolled';
          this.enrolledAt = Date.now();
          this.o.log('enrolled', { device: this.o.identity.id, fleet: r.body.fleet });
          await t.send(to, await this.o.capabilities());
          return;
        }
        this.state = r.type === 'enroll.pending' ? 'pending' : 'enrolling';
        this.o.log(r.type === 'enroll.pending' ? 'enrollment pending approval' : 'enrollment refused', { reply: r.type, body: r.body as unknown as Record<string, unknown> });
      } catch (e) {
        this.o.log('enrollment attempt failed', { attempt, error: (e as Error).message });
      }
      const wait = backoffDelay(attempt, this.o.backoff);
      await new Promise<void>((r) => (this.timer = setTimeout(r, wait)));
    }
  }

  /** Sends an unprompted message (capabilities after learning, telemetry) when enrolled; dropped otherwise. */
  async notify(draft: Draft): Promise<boolean> {
    const t = this.connected;
    if (!t) return false;
    try {
      await t.send(this.o.coordinator.id, draft);
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    clearTimeout(this.timer);
    await this.transport?.close();
  }
}
