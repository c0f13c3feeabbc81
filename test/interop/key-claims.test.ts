// Issue 13: a key stays while any source holds it. For every ordered pair of sources (the zone file, the
// Cloudflare dns_records API, `tandem import-key`, NS1 external key sets A and B) a KSK is added through
// one, then the other; removed through the first it must still be in the DNSKEY RRset tandem serves and in
// CDS/CDNSKEY (RFC 7344 §4: the child publishes every KSK the parent is to trust); removed through the
// second it is gone. dig decides what is served. The zone file and dns_records are one source (the API
// edits the file): adding a key through the second is the duplicate 81058, and a dns_records DELETE is
// how the file's claim goes without editing the file; taking the key out of the file removes it for all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { runAdminCommand } from '../../src/cli/admin.js';
import { generateKey, keyTag } from '../../src/dnssec/keys.js';
import { parseZoneFile } from '../../src/config/zonefile.js';
import { applyEdits } from '../../src/state/yamledit.js';
import { RRType } from '../../src/dns/types.js';
import { dsRdata } from '../../src/dnssec/keys.js';
import { Name } from '../../src/dns/name.js';
import { formatRdata } from '../../src/dns/rdata.js';

const ZONE = 'claims.test.';
const NAME = 'claims.test';
const ZONE_FILE = `zone:
  soa: { mname: ns1.claims.test., rname: hostmaster.claims.test., serial: 1 }
  nameservers: [ns1.claims.test.]
  dnssec:
    enabled: true
    multi_signer: true
records:
  ns1: { type: A, value: 127.0.0.1 }
  www: { type: A, value: 192.0.2.1 }
`;

type Src = 'file' | 'api' | 'cli' | 'nsA' | 'nsB';
const SOURCES: Src[] = ['file', 'api', 'cli', 'nsA', 'nsB'];
/** The claim each way of adding records (claims.ts KeySource). */
const CLAIM: Record<Src, string> = { file: 'records', api: 'records', cli: 'cli', nsA: 'ns1:a', nsB: 'ns1:b' };

let s: TestServer;
let zonesDir: string;
let zoneId: string;

beforeAll(async () => {
  requireTool('dig', 'bind9-dnsutils');
  zonesDir = await mkdtemp(join(tmpdir(), 'tandem-claims-zones-'));
  await writeFile(join(zonesDir, 'claims.test.yaml'), ZONE_FILE);
  s = await startTestServer({ zones: zonesDir });
  zoneId = s.server.manager.zoneByName(Name.fromText(ZONE))!.id;
}, 30_000);
afterAll(async () => {
  await s?.stop();
  await rm(zonesDir, { recursive: true, force: true });
});

interface Key {
  rdata: Uint8Array;
  flags: number;
  b64: string;
  tag: number;
}
function newKey(flags: 256 | 257 = 257): Key {
  const k = generateKey(flags);
  return { rdata: k.dnskey, flags, b64: Buffer.from(k.dnskey.subarray(4)).toString('base64'), tag: keyTag(k.dnskey) };
}

async function cf(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<any> {
  const r = await fetch(`${s.api}/client/v4/zones/${zoneId}${path}`, {
    method, headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r.json();
}

async function ns1(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${s.api}/v1/zones/${NAME}/dnssec/external_keys${path}`, {
    method, headers: { 'x-nsone-key': s.token, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAdminCommand(argv[0], argv.slice(1), { out: (t) => { out += t; }, err: (t) => { err += t; }, env: { TANDEM_API: s.api, TANDEM_TOKEN: s.token } });
  return { code, out, err };
}

const zoneFile = () => join(s.zonesDir, 'claims.test.yaml');

/** Writes the zone file's DNSKEY RRset as `change` makes it (as an operator editing the file would), then SIGHUP. */
async function editFileKeys(change: (keys: Uint8Array[]) => Uint8Array[]): Promise<void> {
  const text = await readFile(zoneFile(), 'utf8');
  const keys = parseZoneFile(zoneFile(), text).input.records.filter((r) => r.type === RRType.DNSKEY).map((r) => r.rdata);
  await writeFile(zoneFile(), applyEdits(text, ZONE, [{ op: 'rrset', owner: ZONE, type: RRType.DNSKEY, ttl: 3600, rdatas: change(keys) }]));
  expect(await s.server.manager.reload()).toEqual([]);
}

async function setKeys(set: string): Promise<string[]> {
  const r = await ns1('GET', `/${set}`);
  return r.status === 404 ? [] : (r.json.dnskey.data as { public_key: string }[]).map((k) => k.public_key);
}

async function putSet(set: string, keys: string[], flags = 257): Promise<void> {
  const r = await ns1('PUT', `/${set}`, { dnskey: { ttl: 3600, data: keys.map((public_key) => ({ flags, protocol: 3, algorithm: 13, public_key })) } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

async function recordOf(k: Key): Promise<any> {
  const list = (await cf('GET', '/dns_records?type=DNSKEY&per_page=5000')).result as any[];
  return list.find((r) => r.data.public_key === k.b64);
}

async function add(src: Src, k: Key): Promise<void> {
  switch (src) {
    case 'file':
      return editFileKeys((keys) => [...keys, k.rdata]);
    case 'api': {
      const r = await cf('POST', '/dns_records', { type: 'DNSKEY', name: NAME, ttl: 3600, data: { flags: k.flags, protocol: 3, algorithm: 13, public_key: k.b64 } });
      expect(r.success, JSON.stringify(r.errors)).toBe(true);
      return;
    }
    case 'cli': {
      const r = await cli('import-key', NAME, `${k.flags} 3 13 ${k.b64}`);
      expect(r.code, r.err).toBe(0);
      return;
    }
    default: {
      const set = src === 'nsA' ? 'a' : 'b';
      return putSet(set, [...(await setKeys(set)), k.b64], k.flags);
    }
  }
}

/** Removes through a source; returns what the source said (API messages, CLI output). */
async function remove(src: Src, k: Key): Promise<string> {
  switch (src) {
    case 'file':
    case 'api': {
      const r = await cf('DELETE', `/dns_records/${(await recordOf(k)).id}`);
      expect(r.success, JSON.stringify(r.errors)).toBe(true);
      return JSON.stringify(r.messages);
    }
    case 'cli': {
      const r = await cli('remove-key', NAME, String(k.tag));
      expect(r.code, r.err).toBe(0);
      return r.out;
    }
    default: {
      const r = await ns1('DELETE', `/${src === 'nsA' ? 'a' : 'b'}`);
      expect(r.status).toBe(200);
      return '';
    }
  }
}

const squash = (t: string) => t.replace(/\s+/g, '');
async function served(type: 'DNSKEY' | 'CDNSKEY' | 'CDS'): Promise<string[]> {
  const r = await dig({ host: s.host, port: s.port }, ['+norec', ZONE, type]);
  expect(r.status).toBe('NOERROR');
  return r.answer.filter((x) => x.type === type).map((x) => squash(x.data));
}

/** What dig must show while a KSK is held: the key in DNSKEY and CDNSKEY, its DS in CDS (RFC 7344 §4.1). */
async function expectServed(k: Key, present: boolean): Promise<void> {
  const key = squash(`${k.flags} 3 13 ${k.b64}`);
  const cds = squash(formatRdata(RRType.DS, dsRdata(Name.fromText(ZONE), k.rdata, 2)));
  expect((await served('DNSKEY')).includes(key), `DNSKEY ${k.tag} served`).toBe(present);
  expect((await served('CDNSKEY')).includes(key), `CDNSKEY ${k.tag} served`).toBe(present);
  expect((await served('CDS')).includes(cds), `CDS ${k.tag} served`).toBe(present);
}

// The file comes first only: once another source has put a key into the file, an operator cannot add it
// there again (dns_records, the same source, is how the file's claim is added then: the pairs with api).
const pairs = SOURCES.flatMap((x) => SOURCES.filter((y) => y !== 'file' && CLAIM[y] !== CLAIM[x]).map((y) => [x, y] as const));

describe('a key stays while any source holds it (every ordered pair of sources)', () => {
  it.each(pairs)('added through %s, then %s; removed through the first: still served, then gone', async (first, second) => {
    const k = newKey();
    await add(first, k);
    await expectServed(k, true);
    await add(second, k);
    expect((await recordOf(k)).meta.key_sources).toEqual([CLAIM[first], CLAIM[second]]);
    const said = await remove(first, k);
    await expectServed(k, true);
    expect((await recordOf(k)).meta.key_sources).toEqual([CLAIM[second]]);
    if (first === 'cli') expect(said).toMatch(new RegExp(`key ${k.tag} is still held by (NS1 set '[ab]'|the zone file / dns_records)`));
    if (first === 'api' || first === 'file') expect(said).toMatch(/still held by/);
    await remove(second, k);
    await expectServed(k, false);
    expect(await recordOf(k)).toBeUndefined();
  }, 30_000);

  it('the zone file and dns_records are one source: the second add is the duplicate 81058, one DELETE removes the key', async () => {
    const k = newKey();
    await add('file', k);
    const again = await cf('POST', '/dns_records', { type: 'DNSKEY', name: NAME, ttl: 3600, data: { flags: 257, protocol: 3, algorithm: 13, public_key: k.b64 } });
    expect(again.errors.map((e: { code: number }) => e.code)).toEqual([81058]);
    await remove('api', k);
    await expectServed(k, false);
  });

  it('taking the key out of the zone file removes it for every source (the file is the truth); the claims go with it', async () => {
    const k = newKey();
    await add('cli', k);
    await add('nsA', k);
    await editFileKeys((keys) => keys.filter((x) => Buffer.compare(x, k.rdata) !== 0));
    await expectServed(k, false);
    expect(await setKeys('a')).not.toContain(k.b64);
    // The state file follows at the next change.
    await ns1('DELETE', '/a');
    const state = JSON.parse(await readFile(join(s.stateDir, 'zones', 'claims.test.json'), 'utf8'));
    expect(Object.keys(state.keyClaims)).not.toContain(Buffer.from(k.rdata).toString('base64'));
  });
});

describe('issue 13 as reported', () => {
  it('a ZSK imported with tandem import-key survives the DELETE of an NS1 set that also listed it', async () => {
    const zsk = newKey(256);
    await add('cli', zsk);
    await putSet('a', [zsk.b64], 256);
    expect(((await ns1('GET', '/a')).json.dnskey.data as { sources: string[] }[])[0].sources).toEqual(['cli', 'ns1:a']);
    await remove('nsA', zsk);
    expect(await served('DNSKEY')).toContain(squash(`256 3 13 ${zsk.b64}`));
    await remove('cli', zsk);
    expect(await served('DNSKEY')).not.toContain(squash(`256 3 13 ${zsk.b64}`));
  });

  it('a KSK in two NS1 sets: deleting one set leaves the other set and its CDS', async () => {
    const k = newKey();
    await putSet('a', [k.b64]);
    await putSet('b', [k.b64]);
    await remove('nsA', k);
    expect(await setKeys('b')).toEqual([k.b64]);
    await expectServed(k, true);
    await remove('nsB', k);
    await expectServed(k, false);
  });

  it('a DELETE by a source that does not hold the key is refused and changes nothing; all_sources (remove-key --all-sources) removes it from every source', async () => {
    const k = newKey();
    await add('nsA', k);
    await add('cli', k);
    const refused = await cf('DELETE', `/dns_records/${(await recordOf(k)).id}`);
    expect(refused.success).toBe(false);
    expect(refused.errors[0].message).toMatch(new RegExp(`DNSKEY ${k.tag} is held by NS1 set 'a' and tandem import-key, not by the zone file / dns_records: nothing was removed`));
    await expectServed(k, true);
    const out = await cli('remove-key', NAME, String(k.tag), '--all-sources');
    expect(out.code, out.err).toBe(0);
    expect(out.out).toMatch(/every source/);
    await expectServed(k, false);
    expect(await setKeys('a')).toEqual([]);
    await ns1('DELETE', '/a');
  });

  it('keys-list shows who holds each imported key', async () => {
    const k = newKey(256);
    await add('api', k);
    await add('cli', k);
    const out = await cli('keys-list', NAME);
    expect(out.out).toMatch(new RegExp(`^${k.tag}\\s+256\\s+13\\s+imported\\s+records,cli\\s`, 'm'));
    await cf('DELETE', `/dns_records/${(await recordOf(k)).id}?all_sources=true`);
  });
});

describe('X-Tandem-Source', () => {
  it('names only the sources a dns_records client may be (records, cli); anything else is 400 and changes nothing', async () => {
    const k = newKey(256);
    const r = await cf('POST', '/dns_records', { type: 'DNSKEY', name: NAME, ttl: 3600, data: { flags: 256, protocol: 3, algorithm: 13, public_key: k.b64 } }, { 'x-tandem-source': 'ns1:a' });
    expect(r.success).toBe(false);
    expect(r.errors[0].code).toBe(6003);
    expect(await recordOf(k)).toBeUndefined();
  });
});
