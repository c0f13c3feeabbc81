// The tandem command as a user runs it: serve, SIGHUP reload, SIGTERM shutdown, ds/keys/dump.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { serve, tandem, type ServeProcess } from '../helpers/cli.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';

let dir: string;
let zones: string;
let state: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-cli-'));
  zones = join(dir, 'zones');
  state = join(dir, 'state');
  await cp(EXAMPLE_ZONES, zones, { recursive: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const waitFor = async (fn: () => Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
};

describe('tandem serve', () => {
  let p: ServeProcess;
  beforeAll(async () => {
    p = await serve(['--zones', zones, '--state', state]);
  }, 30_000);
  afterAll(() => { if (p.child.exitCode === null) p.child.kill('SIGKILL'); });

  it('logs a start-up summary as JSON lines (zones, record counts, listeners)', () => {
    const lines = p.logs().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.msg === 'zone in service' && l.zone === 'example.com.' && typeof l.records === 'number')).toBe(true);
    expect(lines.some((l) => l.msg === 'zones loaded' && l.zones === 1 && l.failed === 0)).toBe(true);
  });

  it('SIGHUP reloads zones; a bad file keeps its last good zone in service and the error names file and reason', async () => {
    const file = join(zones, 'example.com.yaml');
    const good = await readFile(file, 'utf8');
    // A new record proves a good reload took effect.
    await writeFile(file, good.replace("  mail: { type: A, value: 192.0.2.25 }", "  mail: { type: A, value: 192.0.2.25 }\n  added: { type: A, value: 192.0.2.200 }"));
    p.child.kill('SIGHUP');
    expect(await waitFor(async () => (await dig({ host: '127.0.0.1', port: p.port }, ['added.example.com', 'A'])).answer.length === 1)).toBe(true);
    // Now break it: CNAME beside other data.
    await writeFile(file, good.replace("  mail: { type: A, value: 192.0.2.25 }", "  mail:\n    - { type: A, value: 192.0.2.25 }\n    - { type: CNAME, value: www }"));
    p.child.kill('SIGHUP');
    expect(await waitFor(async () => /zone reload failed/.test(p.logs()))).toBe(true);
    expect(p.logs()).toMatch(/example\.com\.yaml:\d+: mail CNAME/);
    const r = await dig({ host: '127.0.0.1', port: p.port }, ['added.example.com', 'A']);
    expect(r.answer.map((x) => x.data)).toEqual(['192.0.2.200']);
    await writeFile(file, good);
  });

  it('SIGTERM shuts down gracefully with exit code 0', async () => {
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});

describe('key commands', () => {
  it('tandem ds prints the DS of the KSK; tandem keys lists KSK and ZSK; --zsk prints the ZSK DNSKEY RR', async () => {
    const ds = await tandem(['ds', 'example.com', '--state', state, '--zones', zones]);
    expect(ds.code).toBe(0);
    expect(ds.stdout).toMatch(/^example\.com\. \d+ IN DS \d+ 13 2 [0-9A-F]{64}$/m);
    const keys = await tandem(['keys', 'example.com', '--state', state, '--zones', zones]);
    expect(keys.stdout).toMatch(/KSK\s+own\s+13\s+257/);
    expect(keys.stdout).toMatch(/ZSK\s+own\s+13\s+256/);
    const zsk = await tandem(['keys', 'example.com', '--zsk', '--state', state, '--zones', zones]);
    expect(zsk.stdout.trim().split('\n')).toHaveLength(1);
    expect(zsk.stdout).toMatch(/^example\.com\. \d+ IN DNSKEY 256 3 13 \S+$/m);
  });

  it('import-bind takes over an existing BIND key pair: the DS stays the one dnssec-dsfromkey computes', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    const kdir = join(dir, 'bindkeys');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(kdir, { recursive: true });
    const name = (await run('dnssec-keygen', ['-q', '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', '-K', kdir, 'import.example'])).stdout.trim();
    const want = (await run('dnssec-dsfromkey', ['-2', join(kdir, `${name}.key`)])).stdout.trim().split(/\s+/).slice(-4).join(' ');
    const st = join(dir, 'state-import');
    const r = await tandem(['import-bind', 'import.example', join(kdir, `${name}.key`), '--state', st]);
    expect(r.code, r.stderr).toBe(0);
    const ds = await tandem(['ds', 'import.example', '--state', st]);
    expect(ds.stdout.trim().split(/\s+/).slice(-4).join(' ').toUpperCase()).toBe(want.toUpperCase());
  });

  it('a missing zone is a clear error, not new keys', async () => {
    const r = await tandem(['ds', 'nothere.example', '--state', state]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no keys for nothere\.example\./);
  });

  it('bad flags are a clear error with a non-zero exit', async () => {
    const r = await tandem(['serve', '--listen', 'nonsense']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/bad address 'nonsense'/);
  });
});

describe('tandem keys with imported keys (issue 4)', () => {
  it('lists external keys and warns on the CLI when an imported key\'s TTL differs from the DNSKEY TTL', async () => {
    const { generateKey } = await import('../../src/dnssec/keys.js');
    const zdir = join(dir, 'zones-ms');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(zdir, { recursive: true });
    const k = generateKey(256);
    const text = (await readFile(join(zones, 'example.com.yaml'), 'utf8'))
      .replace('multi_signer: false', 'multi_signer: true')
      .replace("  '':\n", `  '':\n    - { type: DNSKEY, ttl: 86400, value: { flags: 256, protocol: 3, algorithm: 13, public_key: ${Buffer.from(k.publicKey).toString('base64')} } }\n`);
    await writeFile(join(zdir, 'example.com.yaml'), text);
    const r = await tandem(['keys', 'example.com', '--state', state, '--zones', zdir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${k.keyTag}\\s+ZSK\\s+external`));
    expect(r.stderr).toMatch(new RegExp(`imported key ${k.keyTag} has TTL 86400; the DNSKEY RRset is served with 3600`));
  });
});
