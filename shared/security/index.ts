/** Public surface of device identity and security: keys, key files, registry, replay guard, secure channel. */
export * from './keys.js';
export * from './keyfile.js';
export * from './ed25519.js';
export * from './registry.js';
export * from './replay.js';
export * from './model-signature.js';
export * from './channel.js';
export * from './enrollment.js';
