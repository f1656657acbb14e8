/** Public surface of the transports: the Transport interface, its links (ws, MQTT, in-memory) and errors. */
export * from './errors.js';
export * from './link.js';
export * from './backoff.js';
export * from './transport.js';
export * from './memory.js';
export * from './ws-hub.js';
export * from './ws-spoke.js';
export * from './topics.js';
export * from './mqtt-broker.js';
export * from './mqtt-link.js';
