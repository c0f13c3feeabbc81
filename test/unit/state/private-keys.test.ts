// README "Security": private keys never leave their files. With DNSSEC on, the keys a server generates are
// written 0600 in 0700 folders, and their private part appears in no log line (every level, debug included), no
// admin API answer (Cloudflare and NS1 routes) and no output of the offline commands (dump --signed, keys, ds).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sha256Hex } from '../../../src/api/auth.js';
import { startApi, type RunningApi } from '../../../src/api/server.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { tandem } from '../../helpers/cli.js';
import { exampleZoneDir } from '../../helpers/zones.js';

const TOKEN = 'private-keys-token';
let zonesDir: string;
let stateDir: string;
let api: RunningApi;
let logs = '';
/** Every form a private key could leak in: the file's base64, and its octets as hex and base64url. */
const secrets: string[] = [];
const privateFiles: string[] = [];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

beforeAll(async () => {
  zonesDir = await exampleZoneDir();
  stateDir = await mkdtemp(join(tmpdir(), 'tandem-private-'));
  const logger = pino({ level: 'trace' }, { write: (line: string) => { logs += line; } });
  const clock = { now: () => Math.floor(Date.now() / 1000) };
  const { manager, errors } = await TandemZoneManager.open({ zonesDir, stateDir, clock, logger, cache: new SignatureCache() });
  expect(errors).toEqual([]);
  api = await startApi({ manager, auth: { tokens: [sha256Hex(TOKEN)], users: [], ns1Keys: [] }, at: { host: '127.0.0.1', port: 0 }, logger });
  for (const f of walk(stateDir).filter((p) => p.endsWith('.private'))) {
    privateFiles.push(f);
    const b64 = /^PrivateKey: (\S+)$/m.exec(readFileSync(f, 'utf8'))![1];
    const raw = Buffer.from(b64, 'base64');
    secrets.push(b64, raw.toString('hex'), raw.toString('hex').toUpperCase(), raw.toString('base64url'));
  }
}, 60_000);
afterAll(async () => {
  await api?.close();
  await rm(zonesDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

const leaks = (text: string) => secrets.filter((s) => text.includes(s)).length + (/PrivateKey|private_key|privateKey/.test(text) ? 1 : 0);

describe('private keys (README "Security")', () => {
  it('a signed zone has a KSK and a ZSK, each .private 0600 in a 0700 folder', () => {
    expect(privateFiles.length).toBe(2);
    for (const f of privateFiles) {
      expect(statSync(f).mode & 0o777, f).toBe(0o600);
      expect(statSync(join(f, '..')).mode & 0o777).toBe(0o700);
    }
    expect(statSync(join(stateDir, 'keys')).mode & 0o777).toBe(0o700);
  });

  it('no log line at any level holds a private key', () => {
    expect(logs).toMatch(/example\.com/); // the logger did record the zone's start
    expect(leaks(logs)).toBe(0);
  });

  it('no admin API answer holds a private key (every GET route of both families)', async () => {
    const base = `http://127.0.0.1:${api.address.port}`;
    const get = async (path: string, headers: Record<string, string>) => {
      const r = await fetch(base + path, { headers });
      expect(r.status, path).toBe(200);
      return r.text();
    };
    const cf = { authorization: `Bearer ${TOKEN}` };
    const zones = JSON.parse(await get('/client/v4/zones', cf)).result;
    const id = zones[0].id;
    let all = '';
    for (const p of ['', '/dns_records?per_page=5000', '/dnssec', '/dnssec/zsk', '/dns_settings', '/dns_settings/use_apex_ns']) all += await get(`/client/v4/zones/${id}${p}`, cf);
    for (const p of ['/dnssec', '/dnssec/external_keys']) all += await get(`/v1/zones/example.com${p}`, { 'x-nsone-key': TOKEN });
    expect(all).toMatch(/"public_key"/);
    expect(leaks(all)).toBe(0);
  });

  it('no output of tandem dump --signed, keys or ds holds a private key', async () => {
    const outs: string[] = [];
    for (const cmd of [['dump', 'example.com', '--signed'], ['keys', 'example.com'], ['ds', 'example.com']]) {
      const r = await tandem([...cmd, '--zones', zonesDir, '--state', stateDir]);
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(0);
      outs.push(r.stdout + r.stderr);
    }
    expect(outs[0]).toMatch(/\tRRSIG\t/);
    expect(leaks(outs.join('\n'))).toBe(0);
  }, 60_000);
});
