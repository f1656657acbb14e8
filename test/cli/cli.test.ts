/** The `distillery` command as a user runs it: exit codes and the one-line errors bad input gets. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const BIN = new URL('../../bin/distillery.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'distillery-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('distillery CLI', () => {
  it('lists its commands with --help', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['demo', 'distill', 'train', 'evaluate', 'partition', 'backend', 'keys']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const t = run(['train', '--help']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/--spec <value>/);
  });

  it('trains, saves and re-evaluates a model', () => {
    const out = join(tmp, 'model');
    const r = run(['train', '--dataset', 'breast-cancer', '--spec', 'mlp-small', '--epochs', '5', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/accuracy \d+\.\d+% on 142 test samples/);
    expect(existsSync(join(out, 'model.json'))).toBe(true);
    const e = run(['evaluate', '--model', out, '--dataset', 'breast-cancer']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout.split('\n')[0]).toBe(r.stdout.split('\n')[0]);
    const mismatch = run(['evaluate', '--model', out, '--dataset', 'digits']);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/the model expects samples of shape \[30\] but digits samples are \[8, 8, 1\]/);
  });

  it('rejects bad specs with the field that is wrong', () => {
    const unknown = run(['train', '--spec', '{"kind":"layers","layers":[{"type":"flatten"},{"type":"lstm"}]}']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/spec\.layers\[1\]\.type: unknown layer kind "lstm"/);
    const negative = run(['train', '--spec', '{"kind":"mlp","hidden":[64,-8]}']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toMatch(/spec\.hidden\[1\]: must be a positive integer, got -8/);
  });

  it('rejects bad partitions and options', () => {
    const alpha = run(['partition', '--alpha', '0']);
    expect(alpha.code).toBe(2);
    expect(alpha.stderr).toMatch(/alpha/);
    const many = run(['partition', '--scheme', 'iid', '--devices', '100000']);
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/100000 devices/);
    const option = run(['train', '--epochz', '3']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option --epochz/);
    const nan = run(['train', '--epochs', 'many']);
    expect(nan.stderr).toMatch(/--epochs must be a number, got "many"/);
  });

  it('says how to get Fashion-MNIST when it is missing', () => {
    const r = run(['train', '--dataset', 'fashion-mnist'], { FASHION_MNIST_DIR: join(tmp, 'none') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist\. Install Debian's package/);
  });

  it('generates a key pair with a 0600 secret file and refuses to overwrite it', () => {
    const key = join(tmp, 'keys', 'device.key');
    const r = run(['keys', 'generate', '--out', key]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const pub = JSON.parse(readFileSync(`${key}.pub`, 'utf8'));
    expect(r.stdout).toContain(`identity ${pub.id}`);
    const again = run(['keys', 'generate', '--out', key]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    expect(run(['keys', 'rotate']).stderr).toMatch(/unknown action "rotate"/);
  });

  it('prints a partition table', () => {
    const r = run(['partition', '--devices', '3', '--alpha', '0.5']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows).toHaveLength(4);
    const total = rows.slice(1).reduce((a, row) => a + Number(row.trim().split(/\s+/)[1]), 0);
    expect(total).toBe(1348);
  });
});
