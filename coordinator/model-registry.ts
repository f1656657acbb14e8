/**
 * The model registry: one directory per student version, models/<modelId>/v00003/, holding the student in
 * TF.js format (model.json + weights.bin), its int8 variant (student.dq8), metrics.json and lineage.json.
 * A version is written whole into a temporary directory and renamed into place, so readers (the API, the
 * publisher, a restarted coordinator) see a complete version or none. Versions are published to agents as
 * model.publish bodies signed by the coordinator.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { saveModel } from '../shared/models/store.js';
import { readModelForPublish } from '../shared/models/publish.js';
import type { ModelPublishBody } from '../shared/protocol/messages.js';
import { signModel } from '../shared/security/model-signature.js';
import type { Identity } from '../shared/security/keys.js';

/** Model ids: the protocol's pattern, which also keeps them safe as a single path segment. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** What a version records about itself. */
export interface VersionMeta {
  modelId: string;
  version: number;
  metrics: Record<string, unknown>;
  lineage: Record<string, unknown>;
  /** Size of the int8 variant in bytes, if one was made. */
  int8Bytes?: number;
}

/** Everything needed to write one version. */
export interface NewVersion {
  modelId: string;
  version: number;
  student: tf.LayersModel;
  metrics: Record<string, unknown>;
  lineage: Record<string, unknown>;
  /** The serialized int8 model, if quantization succeeded. */
  int8?: Uint8Array;
}

const vname = (version: number) => `v${String(version).padStart(5, '0')}`;

/** The directory of one version (whether or not it exists). */
export function versionDir(root: string, modelId: string, version: number): string {
  if (!MODEL_ID_PATTERN.test(modelId) || modelId === '.' || modelId === '..') throw new Error(`model id ${JSON.stringify(modelId)} must match ${MODEL_ID_PATTERN} and not be . or ..`);
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`model version must be an integer >= 0, got ${version}`);
  return join(root, modelId, vname(version));
}

/** Writes a version atomically (temporary directory, then rename); replaces an older copy of the same version. */
export async function writeVersion(root: string, v: NewVersion): Promise<string> {
  const final = versionDir(root, v.modelId, v.version);
  const tmp = `${join(root, v.modelId, `.${vname(v.version)}`)}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  await saveModel(v.student, tmp);
  if (v.int8) writeFileAtomic(join(tmp, 'student.dq8'), v.int8);
  writeFileAtomic(join(tmp, 'metrics.json'), JSON.stringify(v.metrics, null, 2) + '\n');
  // lineage.json last: its presence marks the version complete even if a rename were ever torn.
  writeFileAtomic(join(tmp, 'lineage.json'), JSON.stringify(v.lineage, null, 2) + '\n');
  if (existsSync(final)) {
    // A round redone after a crash between writing its version and its checkpoint: the new copy wins.
    const old = `${join(root, v.modelId, `.${vname(v.version)}`)}.old-${process.pid}-${Date.now()}`;
    renameSync(final, old);
    renameSync(tmp, final);
    rmSync(old, { recursive: true, force: true });
  } else renameSync(tmp, final);
  return final;
}

/** Reads versions from disk for the API and the publisher; signs publish bodies with the coordinator key. */
export class ModelRegistry {
  private readonly signed = new Map<string, ModelPublishBody>();

  constructor(
    readonly root: string,
    private readonly identity?: Identity,
  ) {
    mkdirSync(root, { recursive: true });
    this.recover();
  }

  /** Removes leftovers of interrupted writes; puts back a version whose replacement never landed. */
  private recover(): void {
    for (const id of readdirSync(this.root)) {
      const dir = join(this.root, id);
      for (const entry of readdirSync(dir)) {
        const m = /^\.(v\d{5})\.(tmp|old)-/.exec(entry);
        if (!m) continue;
        if (m[2] === 'old' && !existsSync(join(dir, m[1]))) renameSync(join(dir, entry), join(dir, m[1]));
        else rmSync(join(dir, entry), { recursive: true, force: true });
      }
    }
  }

  /** Model ids with at least one version. */
  models(): string[] {
    return readdirSync(this.root).filter((id) => MODEL_ID_PATTERN.test(id) && this.versionNumbers(id).length > 0).sort();
  }

  private versionNumbers(modelId: string): number[] {
    const dir = join(this.root, modelId);
    if (!MODEL_ID_PATTERN.test(modelId) || !existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((e) => /^v\d{5}$/.test(e) && existsSync(join(dir, e, 'lineage.json')))
      .map((e) => Number(e.slice(1)))
      .sort((a, b) => a - b);
  }

  /** Every version of a model, oldest first. */
  versions(modelId: string): VersionMeta[] {
    return this.versionNumbers(modelId).map((v) => this.get(modelId, v)!);
  }

  /** One version (the latest without `version`), or undefined. */
  get(modelId: string, version?: number): VersionMeta | undefined {
    const numbers = this.versionNumbers(modelId);
    const v = version ?? numbers[numbers.length - 1];
    if (v === undefined || !numbers.includes(v)) return undefined;
    const dir = versionDir(this.root, modelId, v);
    const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
    const meta: VersionMeta = { modelId, version: v, metrics: read('metrics.json'), lineage: read('lineage.json') };
    if (existsSync(join(dir, 'student.dq8'))) meta.int8Bytes = readFileSync(join(dir, 'student.dq8')).byteLength;
    return meta;
  }

  /** Drops the cached signed body of a version that was rewritten (a round redone after a crash). */
  invalidate(modelId: string, version: number): void {
    this.signed.delete(`${modelId}@${version}`);
  }

  /** A version as a signed model.publish body (cached: versions never change once complete). */
  publishBody(modelId: string, version?: number): ModelPublishBody | undefined {
    if (!this.identity) throw new Error('this registry has no key to sign with');
    const meta = this.get(modelId, version);
    if (!meta) return undefined;
    const key = `${modelId}@${meta.version}`;
    let body = this.signed.get(key);
    if (!body) {
      body = signModel(readModelForPublish(versionDir(this.root, modelId, meta.version), modelId, meta.version), this.identity.sign.secretKey);
      this.signed.set(key, body);
    }
    return body;
  }
}
