import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAdminCommand, type AdminIo } from '../../../src/cli/admin.js';
import { fakePublicKey, keyTag, dnskeyRdata } from '../../helpers/fake-manager.js';
import { startHarness, TOKEN, type Harness } from './harness.js';

let h: Harness;
let out: string;
let err: string;
let io: AdminIo;
beforeEach(async () => {
  h = await startHarness();
  out = ''; err = '';
  io = { out: (t) => { out += t; }, err: (t) => { err += t; }, env: { TANDEM_API: h.base, TANDEM_TOKEN: TOKEN } };
});
afterEach(async () => { await h.close(); });

const run = (cmd: string, ...argv: string[]) => runAdminCommand(cmd, argv, io);
const PUB = fakePublicKey('cli-import');
const PUB64 = Buffer.from(PUB).toString('base64');

describe('tandem admin commands', () => {
  it('status lists zones with DNSSEC state', async () => {
    expect(await run('status')).toBe(0);
    expect(out).toMatch(/^ZONE\s+ID\s+DNSSEC/);
    expect(out).toMatch(/example\.com\s+[0-9a-f]{32}\s+disabled\s+off\s+ours only/);
    expect(out).toContain('example.net');
  });

  it('dnssec enable --multi-signer prints the state and the DS; the zone may be named or given by id', async () => {
    expect(await run('dnssec', 'enable', 'example.com.', '--multi-signer')).toBe(0);
    expect(out).toMatch(/example\.com: DNSSEC pending, multi-signer on/);
    expect(out).toMatch(/example\.com\. 3600 IN DS \d+ 13 2 [0-9A-F]{64}/);
    out = '';
    expect(await run('dnssec', 'parent-ds', h.zoneId, 'present')).toBe(0);
    expect(out).toMatch(/DNSSEC active/);
    out = '';
    expect(await run('dnssec', 'disable', 'example.com')).toBe(0);
    expect(out).toMatch(/DNSSEC pending-disabled/);
  });

  it('import-key, keys-list, remove-key (by key tag)', async () => {
    await run('dnssec', 'enable', 'example.com', '--multi-signer');
    const tag = keyTag(dnskeyRdata(256, 13, PUB));
    out = '';
    expect(await run('import-key', 'example.com', `example.com. 3600 IN DNSKEY 256 3 13 ${PUB64}`)).toBe(0);
    expect(out).toContain(`imported key ${tag} (flags 256)`);
    out = '';
    expect(await run('keys-list', 'example.com')).toBe(0);
    expect(out).toMatch(/ours \(KSK\)/);
    expect(out).toMatch(/ours \(ZSK\)/);
    expect(out).toMatch(new RegExp(`^${tag}\\s+256\\s+13\\s+imported\\s+\\S+\\s+[0-9a-f]{32}`, 'm'));
    out = '';
    expect(await run('zsk', 'example.com')).toBe(0);
    expect(out).toContain(`example.com. 3600 IN DNSKEY 256 3 13 ${PUB64} ; external`);
    expect(await run('remove-key', 'example.com', String(tag))).toBe(0);
    expect(h.manager.records(h.zoneId).filter((r) => r.type === 48)).toEqual([]);
  });

  it('import-key reads a BIND .key file with @FILE', async () => {
    await run('dnssec', 'enable', 'example.com', '--multi-signer');
    const dir = await mkdtemp(join(tmpdir(), 'tandem-cli-'));
    try {
      const file = join(dir, 'Kexample.com.+013+12345.key');
      await writeFile(file, `; This is a zone-signing key\nexample.com. IN DNSKEY 256 3 13 ${PUB64}\n`);
      expect(await run('import-key', 'example.com', `@${file}`)).toBe(0);
      expect(h.manager.records(h.zoneId).filter((r) => r.type === 48)).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('apex-ns on/off, add/remove', async () => {
    expect(await run('apex-ns', 'example.com', 'on')).toBe(0);
    expect(h.manager.dnsSettings(h.zoneId).multiProvider).toBe(true);
    expect(await run('apex-ns', 'example.com', 'add', 'ns1.other.net.')).toBe(0);
    out = '';
    expect(await run('apex-ns', 'example.com')).toBe(0);
    expect(out).toContain('multi_provider on');
    expect(out).toContain('apex NS records: ns1.other.net');
    expect(await run('apex-ns', 'example.com', 'remove', 'ns1.other.net')).toBe(0);
    expect(h.manager.records(h.zoneId).filter((r) => r.type === 2)).toEqual([]);
  });

  it('ds prints the DS RR, or fails when DNSSEC is off', async () => {
    expect(await run('ds', 'example.com')).toBe(1);
    expect(err).toMatch(/DNSSEC is disabled/);
    await run('dnssec', 'enable', 'example.com');
    out = '';
    expect(await run('ds', 'example.com')).toBe(0);
    expect(out).toMatch(/^example\.com\. 3600 IN DS \d+ 13 2 [0-9A-F]{64}\n$/);
  });

  it('API errors are printed with their code and exit 1; usage errors exit 2', async () => {
    expect(await run('import-key', 'example.com', `256 3 13 ${PUB64}`)).toBe(1);
    expect(err).toMatch(/API error \(HTTP 400\): .*\(1004\)/);
    expect(await run('dnssec', 'frobnicate', 'example.com')).toBe(2);
    expect(await run('status', '--bogus')).toBe(2);
    expect(await run('status', 'nope.example')).toBe(1);
    expect(err).toContain('no zone nope.example');
  });

  it('a wrong token is reported, not crashed on', async () => {
    io.env = { TANDEM_API: h.base, TANDEM_TOKEN: 'wrong' };
    expect(await run('status')).toBe(1);
    expect(err).toMatch(/Authentication error \(10000\)/);
  });

  it('a token file that cannot be read is said so, before any request (not the server\'s 9106)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-cli-'));
    try {
      io.env = { TANDEM_API: h.base };
      expect(await run('status', '--token-file', join(dir, 'nope'))).toBe(1);
      expect(err).toBe(`tandem status: cannot read the token file ${join(dir, 'nope')} (no such file)\n`);
      err = '';
      expect(await run('status', '--state', dir)).toBe(1);
      expect(err).toMatch(new RegExp(`^tandem status: no API token: --token and TANDEM_TOKEN are not set and the server's token file ${join(dir, 'api-token').replace(/[.]/g, '\\.')} cannot be read \\(no such file\\); give --token, --token-file FILE, or --state DIR`));
      expect(err).not.toContain('9106');
      // The state folder's token works as before.
      await writeFile(join(dir, 'api-token'), `${TOKEN}\n`);
      expect(await run('status', '--state', dir)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every admin command takes --help (exit 0, its own usage)', async () => {
    for (const cmd of ['status', 'dnssec', 'import-key', 'keys-list', 'remove-key', 'apex-ns', 'zsk', 'ds']) {
      out = '';
      expect(await run(cmd, '--help')).toBe(0);
      expect(out).toMatch(new RegExp(`^Usage: tandem ${cmd}\\b`));
    }
  });

  it('an unreachable API is reported', async () => {
    io.env = { TANDEM_API: 'http://127.0.0.1:1', TANDEM_TOKEN: 'x' };
    expect(await run('status')).toBe(1);
    expect(err).toMatch(/cannot reach the API/);
  });
});
