/**
 * The coordinator's HTTP listener: the JSON API (/api/...), Prometheus metrics (/metrics) and the
 * dashboard (/), whose assets are our own files served from ./assets (no CDN, nothing fetched elsewhere).
 */
import { readFileSync } from 'node:fs';
import type { CodecStats } from '../../shared/protocol/codec.js';
import type { StructuredLogger } from '../../shared/log.js';
import { apiRoutes, type ApiDeps } from './api.js';
import { CoordinatorMetrics } from './metrics.js';
import { startHttp, type HttpServer, type Route } from './server.js';

const ASSETS: Record<string, [file: string, type: string]> = {
  '/': ['dashboard.html', 'text/html; charset=utf-8'],
  '/dashboard.js': ['dashboard.js', 'text/javascript; charset=utf-8'],
  '/dashboard.css': ['dashboard.css', 'text/css; charset=utf-8'],
};

/** Starts the API, metrics and dashboard on host:port. */
export function startApi(o: ApiDeps & { host: string; port: number; log: StructuredLogger; codecStats: () => CodecStats }): Promise<HttpServer> {
  const assets: Route[] = Object.entries(ASSETS).map(([path, [file, type]]) => {
    const body = readFileSync(new URL(`./assets/${file}`, import.meta.url));
    return { method: 'GET', path: new RegExp(`^${path.replace('.', '\\.')}$`), handler: () => ({ body, type }) };
  });
  // A registry per coordinator; the snapshot is taken when Prometheus scrapes.
  const registry = new CoordinatorMetrics(() => {
    o.store.audit.flush(o.store);
    return { devices: o.fleet.devices(), job: o.runner.status(), codec: o.codecStats(), auditRows: o.store.audit.count(), transport: o.transport.stats() };
  });
  const metrics: Route = { method: 'GET', path: /^\/metrics$/, handler: async () => ({ body: await registry.scrape(), type: registry.contentType }) };
  return startHttp({ host: o.host, port: o.port, log: o.log, routes: [...apiRoutes(o), metrics, ...assets] });
}
