/**
 * The dashboard in a real browser: Debian's chromium (/usr/bin/chromium) driven by playwright-core, against
 * a real coordinator started in this process (ws hub, HTTP API, engine worker) and two devices that
 * connect over ws, enroll and serve small teachers trained here on their own halves of the digits data:
 * one unknown (it enrolls, waits as pending, and the operator approves it through the API), one
 * pre-approved (listed offline until it connects). Checks that the page loads without a console error or
 * a failed request, shows each device as it enrolls and connects, and, without a reload, follows the
 * job: round progress and student accuracy move as rounds complete, and the generator's latest samples
 * render as an image.
 *
 * Without /usr/bin/chromium the test fails (it does not skip): install it with
 * `apt-get install --no-install-recommends chromium` (.ci/run does this).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseCoordinatorConfig } from '../../coordinator/config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/service.js';
import { quietLogger } from '../../shared/log.js';
import { apiToken } from '../../coordinator/api-token.js';
import { initBackend } from '../../shared/compute/backend.js';
import { loadDataset } from '../../shared/data/registry.js';
import { partitionDataset, type DevicePartition } from '../../shared/data/partition.js';
import { subset } from '../../shared/data/dataset.js';
import { buildModel } from '../../shared/models/build.js';
import { fit } from '../../shared/train/fit.js';
import { capabilitiesBody } from '../../shared/distill/wire.js';
import { formatPublicIdentity } from '../../shared/security/keyfile.js';
import { generateIdentity, loadKeyFile, pinnedDirectory, publicIdentity, SecureChannel, type Identity } from '../../shared/security/index.js';
import { connectWsSpoke, createTransport, type Transport } from '../../shared/transport/index.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { serveTeacher } from '../../edge-agent/serve-teacher.js';
import type * as tf from '@tensorflow/tfjs';
import { parsePrometheus } from './helpers/prometheus.js';

const CHROMIUM = '/usr/bin/chromium';
const SCENARIO = new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname;
const SEED = 1;
// A tiny job: three rounds of two generator steps and twenty student steps, a few seconds in all.
const ROUNDS = 3;
const DISTILL = { rounds: ROUNDS, generatorSteps: 2, studentSteps: 20, batchSize: 32, studentBatchSize: 32 };

const tmp = mkdtempSync(join(tmpdir(), 'distillery-dashboard-'));
let c: Coordinator | undefined;
let browser: Browser | undefined;
const transports: Transport[] = [];
const identities: Identity[] = [generateIdentity(), generateIdentity()];
let teachers: tf.LayersModel[] = [];
let parts: DevicePartition[] = [];
let backend = '';

// Checked in the test itself, so a machine without chromium reports a failed test, not a skipped one.
const missingBrowser = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing: the dashboard test drives Debian's chromium. Install it as root with\n  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium\n(.ci/run installs it when it is missing)`;

beforeAll(async () => {
  if (missingBrowser) return;
  // Chromium starts while the teachers train.
  const launching = chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  backend = await initBackend(() => {});
  const { train } = loadDataset('digits', { splitSeed: SEED });
  parts = partitionDataset(train, { scheme: 'dirichlet', alpha: 0.5, devices: 2, seed: SEED });
  teachers = [];
  for (const [d, part] of parts.entries()) {
    const model = buildModel({ kind: 'mlp', hidden: [64] }, { inputShape: train.sampleShape, numClasses: train.numClasses, seed: SEED * 100 + d });
    await fit(model, subset(train, part.indices, `digits/device-${d}`), { epochs: 8, batchSize: 32, learningRate: 0.01, seed: SEED * 100 + d });
    teachers.push(model);
  }
  writeFileSync(join(tmp, 'device-1.pub'), formatPublicIdentity(publicIdentity(identities[1])));
  const config = parseCoordinatorConfig({
    dataDir: join(tmp, 'data'),
    ws: { port: 0 },
    mqtt: { enabled: false },
    http: { port: 0 },
    enrollment: { preapproved: [join(tmp, 'device-1.pub')] },
    job: { scenario: SCENARIO, seed: SEED, distill: DISTILL, minDevices: 2, quorum: 2, deadlineMs: 10_000 },
  });
  c = await startCoordinator(config, { log: quietLogger });
  browser = await launching;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(transports.map((t) => t.close()));
  await c?.stop(5000);
  rmSync(tmp, { recursive: true, force: true });
});

/** Device `i`: connects over ws, serves its teacher and asks to enroll; reports its capabilities once accepted. */
async function connectDevice(i: number): Promise<{ id: string; enroll(): Promise<string> }> {
  const identity = identities[i];
  const coordinator = publicIdentity(await loadKeyFile(join(tmp, 'data', 'coordinator.key')));
  const link = await connectWsSpoke({ url: c!.endpoints.ws!, id: identity.id, hubId: coordinator.id, backoff: { initialMs: 50, maxMs: 500 } });
  const quiet = { warn: () => {} };
  const transport = createTransport(link, new SecureChannel({ identity, directory: pinnedDirectory([coordinator]), logger: quiet }), { timeoutMs: 10_000, logger: quiet });
  transports.push(transport);
  const teacher = new LocalTeacher({ deviceId: identity.id, model: teachers[i], labelHistogram: parts[i].histogram });
  const facts = { platform: 'dashboard-test', backend, memoryMB: 64, modelSpec: JSON.stringify({ kind: 'mlp', hidden: [64] }) };
  serveTeacher(transport, teacher, { facts });
  const enroll = async () => {
    const r = await transport.request(coordinator.id, { type: 'enroll.request', body: { platform: facts.platform } });
    if (r.type === 'enroll.accept') await transport.send(coordinator.id, { type: 'capabilities.report', body: capabilitiesBody(await teacher.info(), facts) });
    return r.type;
  };
  return { id: identity.id, enroll };
}

/** What the page reported that it should not have: console errors, uncaught exceptions, failed requests. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

const short = (id: string) => `${id.slice(0, 8)}…${id.slice(-4)}`;
const row = (page: Page, id: string) => page.locator(`#devices tr[data-device="${id}"]`);

describe('dashboard in chromium', () => {
  it('loads cleanly, shows devices as they connect, and follows rounds and samples without a reload', async () => {
    if (missingBrowser) throw new Error(missingBrowser);
    const page = await browser!.newPage();
    const problems = watch(page);
    const documents: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && documents.push(f.url()));
    await page.goto(c!.endpoints.http!);
    // Before any device connects: the job waits, the pre-approved device is listed offline, no samples yet.
    await expect.poll(() => page.textContent('#job-state'), { timeout: 10_000 }).toBe(`digits-dir0.5: waiting, round 0 of ${ROUNDS}`);
    const [first, second] = identities.map((i) => i.id);
    expect(await page.locator('#devices tr').count()).toBe(1);
    expect((await row(page, second).locator('td').allTextContents()).slice(0, 5)).toEqual([short(second), 'active', 'no', '—', '—']);
    expect(await page.textContent('#fleet-counts')).toBe('(0 online of 1; 1 active, 0 pending)');
    expect(await page.getAttribute('#samples-img', 'src')).toBeNull();
    // Every state line the page shows from now on, recorded in the page itself.
    await page.evaluate(() => {
      const el = document.getElementById('job-state')!;
      const w = window as unknown as { seen: string[] };
      w.seen = [el.textContent ?? ''];
      new MutationObserver(() => w.seen.at(-1) !== el.textContent && w.seen.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
    });

    // An unknown device connects and asks to enroll: it appears in the table, pending and online.
    const a = await connectDevice(0);
    expect(await a.enroll()).toBe('enroll.pending');
    await expect.poll(async () => (await row(page, first).locator('td').allTextContents()).slice(0, 3), { timeout: 10_000 }).toEqual([short(first), 'pending', 'yes']);
    expect(await page.textContent('#fleet-counts')).toBe('(1 online of 2; 1 active, 1 pending)');
    // The operator approves it; it enrolls again and reports its capabilities: active, with its samples and backend.
    const approve = await fetch(`${c!.endpoints.http}/api/devices/${first}/approve`, { method: 'POST', headers: { authorization: `Bearer ${apiToken(join(tmp, 'data', 'api.token'))}` } });
    expect(approve.status).toBe(200);
    expect(await a.enroll()).toBe('enroll.accept');
    await expect.poll(async () => (await row(page, first).locator('td').allTextContents()).slice(0, 5), { timeout: 10_000 }).toEqual([short(first), 'active', 'yes', String(parts[0].indices.length), backend]);

    // The pre-approved device connects and completes the job's device set; rounds start.
    const b = await connectDevice(1);
    expect(await b.enroll()).toBe('enroll.accept');
    await expect.poll(async () => (await row(page, second).locator('td').allTextContents()).slice(0, 5), { timeout: 10_000 }).toEqual([short(second), 'active', 'yes', String(parts[1].indices.length), backend]);
    expect(await page.textContent('#fleet-counts')).toBe('(2 online of 2; 2 active, 0 pending)');

    // A round completes: progress, accuracy and samples update in place.
    await expect.poll(async () => Number(await page.getAttribute('#job-state', 'data-round')), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#job-state')).toMatch(new RegExp(`^digits-dir0\\.5: (running|done), round [1-${ROUNDS}] of ${ROUNDS}, student accuracy \\d+\\.\\d%$`));
    expect(Number(await page.getAttribute('#accuracy', 'data-points'))).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#accuracy polyline').count()).toBe(1);
    expect(await page.$eval('#round-bar', (e) => parseFloat((e as HTMLElement).style.width))).toBeGreaterThan(0);
    await expect.poll(() => page.$eval('#samples-img', (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);

    // The job finishes: the page shows the last round, its accuracy (as the API reports it), one chart point per round, the last samples.
    await expect.poll(() => page.getAttribute('#job-state', 'data-round'), { timeout: 30_000 }).toBe(String(ROUNDS));
    const status = (await (await fetch(`${c!.endpoints.http}/api/status`)).json()) as { job: { state: string; accuracy: number } };
    await expect.poll(() => page.textContent('#job-state'), { timeout: 10_000 }).toBe(`digits-dir0.5: ${status.job.state}, round ${ROUNDS} of ${ROUNDS}, student accuracy ${(status.job.accuracy * 100).toFixed(1)}%`);
    expect(await page.getAttribute('#accuracy', 'data-points')).toBe(String(ROUNDS));
    expect(await page.$eval('#round-bar', (e) => (e as HTMLElement).style.width)).toBe('100%');
    await expect.poll(() => page.$eval('#samples-img', (img) => [(img as HTMLImageElement).getAttribute('src'), (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0]), { timeout: 10_000 }).toEqual([`/api/samples.png?round=${ROUNDS}`, true]);
    // The grid is eight samples per class, 8x8 pixels each, as the API serves it.
    const size = await page.$eval('#samples-img', (img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    expect(size[0]).toBeGreaterThanOrEqual(8 * 8);
    expect(size[1]).toBeGreaterThanOrEqual(10 * 8);
    // Devices carried traffic: their byte counts and the traffic chart moved.
    expect(await row(page, first).locator('td').nth(5).textContent()).toMatch(/kB|MB/);
    expect(Number(await page.getAttribute('#bytes', 'data-points'))).toBeGreaterThan(1);

    // The states seen went from waiting to the last round, in order, in one document (no reload).
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen[0]).toBe(`digits-dir0.5: waiting, round 0 of ${ROUNDS}`);
    const rounds = seen.map((s) => Number(/round (\d+) of/.exec(s)![1]));
    expect(rounds).toEqual([...rounds].sort((a, b) => a - b));
    expect(rounds.at(-1)).toBe(ROUNDS);
    expect(documents).toEqual([`${c!.endpoints.http}/`]);
    expect(await page.evaluate(() => document.body.dataset.error)).toBe('');
    expect(problems).toEqual([]);

    // /metrics agrees with what the page shows.
    const m = parsePrometheus(await (await fetch(`${c!.endpoints.http}/metrics`)).text());
    expect(m.value('distillery_job_round', { job: 'digits-dir0.5' })).toBe(ROUNDS);
    expect(m.value('distillery_student_accuracy', { job: 'digits-dir0.5' })).toBeCloseTo(status.job.accuracy, 10);
    expect(m.all('distillery_round_seconds').map((s) => s.labels.phase).sort()).toEqual(['generator', 'queries', 'student']);
    await page.close();
  });
});
