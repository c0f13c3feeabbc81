// The test fixture (src/fixture.ts) as a user's suite drives it, with dig and delv deciding what is served.
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFixture, type Fixture } from '../../src/fixture.js';
import { dig } from '../helpers/dig.js';
import { waitFor } from '../helpers/procs.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';
import { delvValidated } from '../helpers/validate.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { RRType } from '../../src/dns/types.js';
import { generateKey } from '../../src/dnssec/keys.js';

const ZONE_TEXT = `
zone:
  soa: { mname: ns1.example.test., rname: hostmaster.example.test. }
  nameservers: [ns1.example.test.]
  dnssec: { enabled: true }
records:
  ns1: { type: A, value: 127.0.0.1 }
  www: { type: A, values: [192.0.2.1, 192.0.2.2] }
`;

// The same kind of zone as an object (what a test builds in code).
const zoneObject = (name: string, more: Record<string, unknown> = {}) => ({
  zone: { soa: { mname: `ns1.${name}.`, rname: `hostmaster.${name}.` }, nameservers: [`ns1.${name}.`], dnssec: { enabled: true, multi_signer: true } },
  records: { ns1: { type: 'A', value: '127.0.0.1' }, ...more },
});

const exists = (p: string) => access(p).then(() => true, () => false);
const answers = async (f: Fixture, name: string, type: string) => (await dig(f, [name, type, '+norec'])).answer.filter((r) => r.type === type).map((r) => r.data).sort();

describe('startFixture', () => {
  let f: Fixture;
  let writes: string[];
  beforeAll(async () => {
    writes = [];
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { writes.push(String(chunk)); return true; });
    try {
      f = await startFixture({ zones: { 'example.test': ZONE_TEXT, 'object.test': zoneObject('object.test', { www: { type: 'AAAA', value: '2001:db8::1' } }) } });
    } finally {
      out.mockRestore();
    }
  });
  afterAll(() => f?.close());

  it('serves zones given as YAML text and as objects, on a free port, without writing a log line', async () => {
    expect(f.port).toBeGreaterThan(0);
    expect(await answers(f, 'www.example.test', 'A')).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(await answers(f, 'www.object.test', 'AAAA')).toEqual(['2001:db8::1']);
    expect(f.zones().map((z) => z.name).sort()).toEqual(['example.test.', 'object.test.']);
    expect(writes).toEqual([]);
  });

  it('RFC 4035 §5: answers validate from the DS the fixture gives (delv decides)', async () => {
    const zone = f.zone('example.test');
    expect(zone.ds()).toHaveLength(1);
    const v = await delvValidated(f, zone.ds(), 'www.example.test', 'A');
    expect(v.validated, v.output).toBe(true);
  });

  it('dnskeys() is the DNSKEY RRset dig sees', async () => {
    const zone = f.zone('example.test');
    const served = (await dig(f, ['example.test', 'DNSKEY', '+norec', '+nosplit'])).answer.filter((r) => r.type === 'DNSKEY').map((r) => r.data.replace(/ /g, '')).sort();
    expect(zone.dnskeys().map((k) => k.split(' DNSKEY ')[1].replace(/ /g, '')).sort()).toEqual(served);
    expect(zone.keys().map((k) => `${k.role} ${k.source}`).sort()).toEqual(['KSK own', 'ZSK own']);
  });

  it('record changes are served at once and written into the zone file', async () => {
    const zone = f.zone('example.test');
    const added = await zone.addRecords({ name: 'mail', type: 'MX', values: [{ preference: 10, exchange: 'mx1' }, '20 mx2.example.test.'], ttl: 300 });
    expect(added.map((r) => r.data).sort()).toEqual(['10 mx1.example.test.', '20 mx2.example.test.']);
    expect(await answers(f, 'mail.example.test', 'MX')).toEqual(['10 mx1.example.test.', '20 mx2.example.test.']);

    await zone.setRecords({ name: 'www', type: 'A', value: '192.0.2.99' });
    expect(await answers(f, 'www.example.test', 'A')).toEqual(['192.0.2.99']);
    expect(zone.records({ name: 'www' }).map((r) => `${r.name} ${r.type} ${r.data}`)).toEqual(['www.example.test. A 192.0.2.99']);
    expect(await readFile(join(f.zonesDir, 'example.test.yaml'), 'utf8')).toContain('192.0.2.99');

    expect(await zone.deleteRecords('mail')).toBe(2);
    expect((await dig(f, ['mail.example.test', 'MX', '+norec'])).status).toBe('NXDOMAIN');
  });

  it('a refused change rejects with the rule and changes nothing (RFC 1034 §3.6.2: CNAME beside other data)', async () => {
    const zone = f.zone('example.test');
    await expect(zone.addRecords({ name: 'www', type: 'CNAME', value: 'ns1' })).rejects.toThrow(/CNAME/);
    expect(await answers(f, 'www.example.test', 'A')).toEqual(['192.0.2.99']);
  });

  it('RFC 8901 §2.1.2: an imported key joins the served DNSKEY RRset, and removeKey takes it out again', async () => {
    const zone = f.zone('object.test');
    const peer = formatRdata(RRType.DNSKEY, generateKey(256).dnskey); // another signer's ZSK
    const key = await zone.importKey(`object.test. 3600 IN DNSKEY ${peer}`);
    expect(key).toMatchObject({ source: 'external', role: 'ZSK', flags: 256, algorithm: 13 });
    expect(await answers(f, 'object.test', 'DNSKEY')).toHaveLength(3);
    await zone.removeKey(key.tag);
    expect(await answers(f, 'object.test', 'DNSKEY')).toHaveLength(2);
    await expect(zone.removeKey(key.tag)).rejects.toThrow(/no imported key/);
  });

  it('zone() names the served zones when asked for another', () => {
    expect(() => f.zone('nope.test')).toThrow(/nope\.test\. is not served \(served: example\.test\., object\.test\.\)/);
  });
});

describe('state folders', () => {
  it('the temporary folders are gone after close(); a given state folder is kept, and with it the KSK and DS', async () => {
    const state = await mkdtemp(join(tmpdir(), 'tandem-fixture-state-'));
    try {
      const a = await startFixture({ zones: { 'example.test': ZONE_TEXT }, state });
      const ds = a.zone('example.test').ds();
      const temp = a.zonesDir;
      expect(await exists(temp)).toBe(true);
      await a.close();
      expect(await exists(temp)).toBe(false);
      expect(await exists(join(state, 'keys'))).toBe(true);

      const b = await startFixture({ zones: { 'example.test': ZONE_TEXT }, state });
      expect(b.zone('example.test').ds()).toEqual(ds);
      await b.close();
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });

  it('a folder of zone files is copied, never written; reload() picks up an edit of the copy', async () => {
    const f = await startFixture({ zones: EXAMPLE_ZONES });
    try {
      expect(await answers(f, 'www.example.com', 'A')).toEqual(['192.0.2.1']);
      await f.zone('example.com').setRecords({ name: 'www', type: 'A', value: '192.0.2.7' });
      expect(await readFile(join(EXAMPLE_ZONES, 'example.com.yaml'), 'utf8')).not.toContain('192.0.2.7');
      const file = join(f.zonesDir, 'example.com.yaml');
      await writeFile(file, (await readFile(file, 'utf8')).replace('192.0.2.7', '192.0.2.8'));
      await f.reload();
      expect(await answers(f, 'www.example.com', 'A')).toEqual(['192.0.2.8']);
      await writeFile(file, 'zone: [');
      await expect(f.reload()).rejects.toThrow(/example\.com\.yaml/);
      expect(await answers(f, 'www.example.com', 'A')).toEqual(['192.0.2.8']); // the last good zone stays
    } finally {
      await f.close();
    }
  });

  it('a zone that does not load rejects startFixture with the file, line and rule', async () => {
    const bad = ZONE_TEXT.replace("www: { type: A, values: [192.0.2.1, 192.0.2.2] }", "www: [{ type: A, value: 192.0.2.1 }, { type: CNAME, value: ns1 }]");
    await expect(startFixture({ zones: { 'example.test': bad } })).rejects.toThrow(/example\.test\.yaml:\d+: www CNAME: CNAME beside/);
  });
});

describe('parentResolver', () => {
  it('our DS published by a parent (another fixture) moves DNSSEC from pending to active', async () => {
    const state = await mkdtemp(join(tmpdir(), 'tandem-fixture-state-'));
    const started: Fixture[] = [];
    try {
      const first = await startFixture({ zones: { 'child.test': zoneObject('child.test') }, state });
      const ds = first.zone('child.test').ds()[0].split(' DS ')[1];
      expect(first.zone('child.test').dnssecStatus()).toBe('pending'); // no parent asked: stays pending
      await first.close();

      const parent = await startFixture({
        zones: { test: { zone: { soa: { mname: 'ns.test.', rname: 'h.test.' }, nameservers: ['ns.test.'] }, records: { ns: { type: 'A', value: '127.0.0.1' }, child: [{ type: 'NS', value: 'ns1.child.test.' }, { type: 'DS', value: ds }] } } },
      });
      started.push(parent);
      const child = await startFixture({ zones: { 'child.test': zoneObject('child.test') }, state, parentResolver: `${parent.host}:${parent.port}` });
      started.push(child);
      await waitFor(() => child.zone('child.test').dnssecStatus() === 'active', 10_000, { what: 'DNSSEC active after the parent check' });
    } finally {
      for (const s of started) await s.close().catch(() => undefined);
      await rm(state, { recursive: true, force: true });
    }
  });
});
