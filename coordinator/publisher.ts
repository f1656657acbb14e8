/**
 * Publishing a registry version to agents: a signed model.publish per device, each answered by model.ack
 * (the agent verified the coordinator's signature and stored the model) or an `error` body. Devices that
 * are offline or fail are reported, not retried here: they can fetch any version later with model.fetch.
 */
import type { Transport } from '../shared/transport/transport.js';
import type { ModelRegistry } from './model-registry.js';

/** Outcome of one device's publication. */
export interface PublishResult {
  device: string;
  ok: boolean;
  error?: string;
}

/** Sends `modelId` at `version` (latest if omitted) to `devices`; resolves when every device answered or timed out. */
export async function publishVersion(transport: Transport, registry: ModelRegistry, devices: string[], modelId: string, version?: number, timeoutMs = 30_000): Promise<PublishResult[]> {
  const body = registry.publishBody(modelId, version);
  if (!body) throw new Error(`no version ${version ?? '(latest)'} of model ${modelId}`);
  return Promise.all(
    devices.map(async (device): Promise<PublishResult> => {
      try {
        const reply = await transport.request(device, { type: 'model.publish', body }, { timeoutMs });
        if (reply.type === 'model.ack' && reply.body.modelId === body.modelId && reply.body.version === body.version) return { device, ok: true };
        return { device, ok: false, error: reply.type === 'error' ? `${reply.body.code}: ${reply.body.reason}` : `answered ${reply.type}` };
      } catch (e) {
        return { device, ok: false, error: (e as Error).message };
      }
    }),
  );
}
