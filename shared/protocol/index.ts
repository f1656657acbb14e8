/** Public surface of the wire protocol: envelope, message catalog, tensor codec, validators, errors. */
export * from './errors.js';
export * from './clock.js';
export * from './validate.js';
export * from './float16.js';
export * from './tensor.js';
export * from './msgpack.js';
export * from './messages.js';
export * from './envelope.js';
export * from './codec.js';
