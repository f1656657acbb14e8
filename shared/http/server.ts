/**
 * A small JSON HTTP server on node:http, shared by the coordinator's API and the edge agent's local API. Routes are a table
 * of (method, path pattern, handler); errors are typed (HttpError with a status and a code) and always
 * answered as JSON `{error: {code, message}}`, so a bad request gets a 4xx that says what was wrong and
 * nothing half-done. Bodies are capped before they are read in full.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
/** Where handler failures are reported. */
export interface HttpLog {
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A failure to report to the client; `status` is the HTTP status, `code` a stable string. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What a handler sees. */
export interface RequestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body ({} when empty); reading it enforces the size limit. */
  json(): Promise<Record<string, unknown>>;
}

/** A handler's answer: JSON, or raw bytes with a content type. */
export type Reply = { status?: number; json: unknown } | { status?: number; body: string | Uint8Array; type: string; headers?: Record<string, string> };

/** One route. `path` is a RegExp with named groups for the parameters. */
export interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handler(ctx: RequestContext): Reply | Promise<Reply>;
}

/** Largest request body accepted unless the server is started with another limit. */
export const MAX_BODY_BYTES = 64 * 1024;

async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, 'body_too_large', `request body of ${declared} bytes exceeds the limit of ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'body_too_large', `request body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'bad_json', `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'bad_json', 'request body must be a JSON object');
  return value as Record<string, unknown>;
}

function send(res: ServerResponse, r: Reply): void {
  if ('json' in r) {
    const body = JSON.stringify(r.json);
    res.writeHead(r.status ?? 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  } else {
    res.writeHead(r.status ?? 200, { 'content-type': r.type, 'cache-control': 'no-store', ...r.headers });
    res.end(r.body);
  }
}

/** Dispatches a request to the first matching route; 404 for unknown paths, 405 for a known path's other methods. */
async function dispatch(routes: Route[], req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const matching = routes.map((r) => ({ r, m: r.path.exec(url.pathname) })).filter((x) => x.m);
  const hit = matching.find((x) => x.r.method === method || (method === 'HEAD' && x.r.method === 'GET'));
  if (!hit) {
    if (matching.length) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}; use ${[...new Set(matching.map((x) => x.r.method))].join(', ')}`);
    throw new HttpError(404, 'not_found', `no route for ${method} ${url.pathname}`);
  }
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(hit.m!.groups ?? {})) {
    try {
      params[k] = decodeURIComponent(v);
    } catch {
      throw new HttpError(400, 'bad_path', `path segment ${JSON.stringify(v)} is not valid percent-encoding`);
    }
  }
  send(res, await hit.r.handler({ method, path: url.pathname, params, query: url.searchParams, headers: req.headers, json: () => readJson(req, maxBodyBytes) }));
}

/** A listening server. */
export interface HttpServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the server on host:port (port 0: any free port). */
export async function startHttp(o: { host: string; port: number; routes: Route[]; log: HttpLog; maxBodyBytes?: number }): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    dispatch(o.routes, req, res, o.maxBodyBytes ?? MAX_BODY_BYTES).catch((e: unknown) => {
      const err = e instanceof HttpError ? e : new HttpError(500, 'internal', (e as Error).message);
      if (err.status >= 500) o.log.error('http handler failed', { method: req.method, url: req.url, error: err.message });
      if (res.headersSent) return void res.destroy();
      // Close after an unread oversized body rather than draining it.
      if (err.status === 413) res.setHeader('connection', 'close');
      send(res, { status: err.status, json: { error: { code: err.code, message: err.message } } });
    });
  });
  server.requestTimeout = 30_000;
  // Longer than clients' idle keep-alive, so the server never closes a socket a client is just reusing
  // (ECONNRESET), which happens easily when training keeps the event loop busy past the 5 s default.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
