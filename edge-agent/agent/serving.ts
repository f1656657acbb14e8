/**
 * The model the agent serves, and how a published student replaces it.
 *
 * A model.publish is taken in five steps, any failure leaving the current model serving:
 *  1. verify the coordinator's detached signature over the model content (not only the frame's);
 *  2. load it with TF.js and check it fits the local data (input shape, classes);
 *  3. quantize it to int8 on the device, calibrating activation ranges on local samples;
 *  4. score the int8 model on the local held-out slice; if it is worse than the model it would replace by
 *     more than `rollbackMargin`, it is refused (rolled back before it ever serves);
 *  5. store the signed body and the .dq8 file, then switch active.json by atomic rename and swap the
 *     in-memory model in one assignment, so a request is served by either the old or the new model.
 * On restart the active model is reloaded and its stored signature checked again.
 *
 * Until a student arrives, the local teacher serves (in float, through TF.js).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../shared/data/dataset.js';
import { writeFileAtomic } from '../../shared/fs/atomic.js';
import { accuracy, argmaxRows } from '../../shared/metrics/index.js';
import { loadPublishedModel } from '../../shared/models/publish.js';
import { packValue, unpackExact } from '../../shared/protocol/msgpack.js';
import type { ModelPublishBody } from '../../shared/protocol/messages.js';
import { verifyModel } from '../../shared/security/model-signature.js';
import { Int8Model, loadQuantized, quantizeModel, saveQuantized } from '../../shared/quantize/index.js';
import type { SampleFormat } from './samples.js';
import { checkTeacherFits } from './teacher-source.js';

/** What serves predictions now. */
export interface ActiveModel {
  kind: 'int8' | 'teacher';
  modelId?: string;
  version?: number;
  /** Accuracy on the local held-out slice when it was activated. */
  heldOutAccuracy?: number;
  activatedAt?: number;
}

/** Why a publication was refused; `code` goes back to the coordinator in an `error` body. */
export class PublishRefused extends Error {
  constructor(
    readonly code: 'bad_signature' | 'malformed_model' | 'incompatible_model' | 'accuracy_regression',
    message: string,
  ) {
    super(message);
    this.name = 'PublishRefused';
  }
}

/** One entry of the publication history (status API). */
export interface PublishRecord {
  modelId: string;
  version: number;
  outcome: 'activated' | 'refused';
  reason?: string;
  heldOutAccuracy?: number;
  previousAccuracy?: number;
  time: number;
}

const fileStem = (id: string, version: number) => `${id.replace(/[^A-Za-z0-9_.-]/g, '_')}-v${version}`;

/** Logits for a batch from whichever model serves. */
export type Predictor = (x: Float32Array) => Float32Array;

/** A float TF.js model as a Predictor (the teacher, until a student arrives). */
export function floatPredictor(model: tf.LayersModel, sampleShape: number[]): Predictor {
  const perSample = sampleShape.reduce((a, b) => a * b, 1);
  return (x) => tf.tidy(() => (model.predict(tf.tensor(x, [x.length / perSample, ...sampleShape])) as tf.Tensor).dataSync() as Float32Array);
}

export class ServingSlot {
  private int8?: Int8Model;
  private activeInfo: ActiveModel = { kind: 'teacher' };
  readonly history: PublishRecord[] = [];
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly format: SampleFormat,
    private readonly coordinatorSignKey: Uint8Array | undefined,
    private readonly teacherPredict: Predictor,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void,
  ) {
    this.dir = join(dataDir, 'models');
  }

  get active(): ActiveModel {
    return { ...this.activeInfo };
  }

  /** Reloads the active student after a restart; a missing or damaged one leaves the teacher serving. */
  restore(): void {
    const pointer = join(this.dir, 'active.json');
    if (!existsSync(pointer)) return;
    try {
      const info = JSON.parse(readFileSync(pointer, 'utf8')) as ActiveModel;
      const stem = fileStem(info.modelId!, info.version!);
      const signed = unpackExact(readFileSync(join(this.dir, `${stem}.publish`)));
      if (!signed.ok) throw new Error(`stored publication is damaged: ${signed.error.reason}`);
      if (this.coordinatorSignKey && !verifyModel(signed.value as ModelPublishBody, this.coordinatorSignKey)) throw new Error('stored publication fails its signature check');
      this.int8 = new Int8Model(loadQuantized(join(this.dir, `${stem}.dq8`)));
      this.activeInfo = info;
      this.log('model restored', { modelId: info.modelId, version: info.version });
    } catch (e) {
      this.log('stored model not usable; the teacher serves', { error: (e as Error).message });
    }
  }

  /** Logits of the serving model for a whole number of samples. */
  predict(x: Float32Array): { logits: Float32Array; model: ActiveModel } {
    const model = this.active;
    const int8 = this.int8;
    return { logits: int8 ? int8.predict(x) : this.teacherPredict(x), model };
  }

  private accuracyOf(predict: Predictor, heldOut: Dataset): number | undefined {
    if (!heldOut.y.length) return undefined;
    return accuracy(argmaxRows(predict(heldOut.x), this.format.numClasses), heldOut.y);
  }

  /**
   * Takes a published model through the five steps above. Resolves with the new ActiveModel, or throws
   * PublishRefused (the current model keeps serving).
   */
  async accept(body: ModelPublishBody, local: { calibration: Float32Array; heldOut: Dataset; margin: number }): Promise<ActiveModel> {
    const refuse = (code: PublishRefused['code'], reason: string): never => {
      this.history.push({ modelId: body.modelId, version: body.version, outcome: 'refused', reason: `${code}: ${reason}`, time: Date.now() });
      throw new PublishRefused(code, reason);
    };
    if (!this.coordinatorSignKey) refuse('bad_signature', 'this agent has no coordinator key to verify publications with');
    if (!verifyModel(body, this.coordinatorSignKey!)) refuse('bad_signature', `model ${body.modelId} v${body.version}: the signature does not match the coordinator's key`);
    let float: tf.LayersModel | undefined;
    let int8: Int8Model | undefined;
    try {
      try {
        float = await loadPublishedModel(body);
      } catch (e) {
        refuse('malformed_model', `model ${body.modelId} v${body.version} cannot be loaded: ${(e as Error).message}`);
      }
      try {
        checkTeacherFits(float!, this.format, `model ${body.modelId} v${body.version}`);
      } catch (e) {
        refuse('incompatible_model', (e as Error).message);
      }
      try {
        int8 = new Int8Model(quantizeModel(float!, local.calibration));
      } catch (e) {
        refuse('incompatible_model', `model ${body.modelId} v${body.version} cannot be quantized to int8: ${(e as Error).message}`);
      }
    } finally {
      float?.dispose();
    }
    const candidate = int8!;
    const acc = this.accuracyOf((x) => candidate.predict(x), local.heldOut);
    // The previous student is the reference: a global student may well score below this device's own
    // teacher on local data, and that is no reason to refuse it. The first student always serves.
    const current = this.int8;
    const previous = current ? this.accuracyOf((x) => current.predict(x), local.heldOut) : undefined;
    if (acc !== undefined && previous !== undefined && acc < previous - local.margin) {
      refuse('accuracy_regression', `model ${body.modelId} v${body.version} scores ${(acc * 100).toFixed(2)}% on the local held-out slice, ${((previous - acc) * 100).toFixed(2)} points below v${this.activeInfo.version} (margin ${(local.margin * 100).toFixed(2)}); v${this.activeInfo.version} keeps serving`);
    }
    const stem = fileStem(body.modelId, body.version);
    writeFileAtomic(join(this.dir, `${stem}.publish`), packValue(body));
    saveQuantized(candidate.model, join(this.dir, `${stem}.dq8`));
    const info: ActiveModel = { kind: 'int8', modelId: body.modelId, version: body.version, heldOutAccuracy: acc, activatedAt: Date.now() };
    writeFileAtomic(join(this.dir, 'active.json'), JSON.stringify(info));
    this.int8 = candidate;
    this.activeInfo = info;
    this.history.push({ modelId: body.modelId, version: body.version, outcome: 'activated', heldOutAccuracy: acc, previousAccuracy: previous, time: info.activatedAt! });
    return this.active;
  }
}
