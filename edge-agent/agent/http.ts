/**
 * The agent's local HTTP API (127.0.0.1 by default; it is for processes on the device, not the network):
 *   GET  /health          liveness
 *   GET  /status          model, samples, coordinator link, memory
 *   POST /predict         {"inputs": [sample, ...]} or {"x": sample}: labels and probabilities
 *   POST /samples         {"samples": [{"x": [...], "y": label}, ...]}: ingest labeled samples (all or none)
 * Every bad request gets a 4xx with {error: {code, message}} and changes nothing.
 */
import { HttpError, startHttp, type HttpServer, type Route } from '../../shared/http/server.js';
import type { Agent, AgentLogger } from './agent.js';
import { checkSample, SampleError } from './samples.js';

/** Most samples one /predict request may carry. */
export const MAX_PREDICT_BATCH = 1024;

/** Parses /predict's body into a flat Float32Array of whole samples. */
export function predictInputs(body: Record<string, unknown>, format: { sampleShape: number[]; numClasses: number }): Float32Array {
  const list = body.inputs !== undefined ? body.inputs : body.x !== undefined ? [body.x] : undefined;
  if (!Array.isArray(list) || list.length === 0) throw new HttpError(400, 'bad_request', 'body must be {"inputs": [sample, ...]} or {"x": sample}, each sample an array of numbers');
  if (list.length > MAX_PREDICT_BATCH) throw new HttpError(400, 'bad_request', `inputs: ${list.length} samples exceed the limit of ${MAX_PREDICT_BATCH} per request`);
  const f = format.sampleShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(list.length * f);
  list.forEach((x, i) => {
    try {
      out.set(checkSample({ x, y: 0 }, format, `inputs[${i}]`).x, i * f);
    } catch (e) {
      throw new HttpError(400, 'bad_input', (e as Error).message);
    }
  });
  return out;
}

export function agentRoutes(agent: Agent): Route[] {
  const format = { sampleShape: agent.config.data.sampleShape, numClasses: agent.config.data.numClasses };
  return [
    { method: 'GET', path: /^\/health$/, handler: () => ({ json: { ok: true } }) },
    { method: 'GET', path: /^\/status$/, handler: () => ({ json: agent.status() }) },
    {
      method: 'POST',
      path: /^\/predict$/,
      handler: async (ctx) => ({ json: agent.predict(predictInputs(await ctx.json(), format)) }),
    },
    {
      method: 'POST',
      path: /^\/samples$/,
      handler: async (ctx) => {
        const body = await ctx.json();
        const samples = body.samples !== undefined ? body.samples : body.x !== undefined ? [body] : undefined;
        if (!Array.isArray(samples)) throw new HttpError(400, 'bad_request', 'body must be {"samples": [{"x": [...], "y": label}, ...]} or one {"x": [...], "y": label}');
        try {
          return { status: 201, json: agent.ingest(samples) };
        } catch (e) {
          if (e instanceof SampleError) throw new HttpError(400, 'bad_sample', `${e.message}; nothing from this request was stored`);
          throw e;
        }
      },
    },
  ];
}

export function startAgentHttp(agent: Agent, o: { host: string; port: number; maxBodyBytes: number }, log: AgentLogger): Promise<HttpServer> {
  return startHttp({ host: o.host, port: o.port, routes: agentRoutes(agent), log, maxBodyBytes: o.maxBodyBytes });
}
