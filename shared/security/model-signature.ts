/**
 * Detached signatures on published models. Every frame is already signed, but a model outlives its frame:
 * agents store it and load it later, and may receive it relayed or cached. Signing the model content
 * itself lets an agent verify the coordinator's signature at load time, not only at receive time.
 */
import { packValue } from '../protocol/msgpack.js';
import type { ModelPublishBody } from '../protocol/messages.js';
import { defaultEd25519, type Ed25519 } from './ed25519.js';

/** The exact bytes a model signature covers: a domain tag, then every field except the signature. */
export function modelSigningBytes(model: Omit<ModelPublishBody, 'signature'>): Uint8Array {
  return packValue([
    'distillery-model-v1',
    model.modelId,
    model.version,
    model.topology ?? null,
    model.tensors.map((t) => [t.name, t.tensor.dtype, t.tensor.shape, t.tensor.scale ?? null, t.tensor.data]),
  ]);
}

/** Returns the model body with a fresh coordinator signature. */
export function signModel(model: Omit<ModelPublishBody, 'signature'>, signSecretKey: Uint8Array, ed: Ed25519 = defaultEd25519): ModelPublishBody {
  return { ...model, signature: ed.sign(modelSigningBytes(model), signSecretKey) };
}

/** True if `model.signature` is the publisher's signature over its content. */
export function verifyModel(model: ModelPublishBody, publisherSignPublicKey: Uint8Array, ed: Ed25519 = defaultEd25519): boolean {
  const { signature, ...content } = model;
  return ed.verify(modelSigningBytes(content), signature, publisherSignPublicKey);
}
