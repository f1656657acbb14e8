/** The coordinator's HTTP server is the shared one (shared/http/server.ts); this module keeps the coordinator's import paths. */
export * from '../../shared/http/server.js';
