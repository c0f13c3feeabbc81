// RFC 2136 UPDATE in (issue 12), decided by real tools: nsupdate (BIND) and knsupdate (Knot) send TSIG-signed
// updates of the apex DNSKEY, NS, CDS/CDNSKEY and CSYNC; dig reads what tandem serves, delv validates it with
// tandem's DS as the only trust anchor, and a Knot secondary takes each change by NOTIFY and IXFR. Updates that
// must not apply (outside the policy, unsigned, a wrong key, a refused RR in the message) leave the DNSKEY RRset
// byte for byte as it was and the serial where it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delv, dig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { exampleZoneDir } from '../helpers/zones.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { udpExchange } from '../helpers/client.js';
import { sendUpdate, type UpdateSent, type UpdateTool } from '../helpers/nsupdate.js';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { runAdminCommand } from '../../src/cli/admin.js';
import { Name } from '../../src/dns/name.js';
import { RRClass, RRType, Rcode } from '../../src/dns/types.js';
import { encodeMessage, encodeQuery } from '../../src/dns/writer.js';
import { signRequest } from '../../src/dns/tsig.js';
import { dsRdata, generateKey, keyTag } from '../../src/dnssec/keys.js';
import { formatRdata } from '../../src/dns/rdata.js';

const SYNC = 'c3luYy1rZXktc2VjcmV0LWZvci10aGUtdXBkYXRlLXRlc3RzIQ==';
const OTHER = 'b3RoZXIta2V5LXNlY3JldC1mb3ItdGhlLXVwZGF0ZS10ZXN0cw==';
const XFR = 'eGZyLWtleS1zZWNyZXQtZm9yLXRoZS11cGRhdGUtdGVzdHMhIQ==';
const ZONE = 'example.com';
const origin = Name.fromText('example.com.');
const key = (name: string, secret: string) => ({ name: Name.fromText(`${name}.`), algorithm: 'hmac-sha256' as const, secret: new Uint8Array(Buffer.from(secret, 'base64')) });

type Tool = UpdateTool;

/** One UPDATE message by `tool` (`-y` with `secret` for sync-key, or unsigned), the status the server answered. */
function update(s: TestServer, tool: Tool, lines: string[], opts: { key?: string; secret?: string; unsigned?: boolean } = {}): Promise<UpdateSent> {
  const key = opts.unsigned ? undefined : { name: opts.key ?? 'sync-key', secret: opts.secret ?? SYNC };
  return sendUpdate(tool, { host: '127.0.0.1', port: s.port }, ZONE, lines, { key });
}

const dnskeyText = (rdata: Uint8Array) => formatRdata(RRType.DNSKEY, rdata);

let s: TestServer;
let knot: KnotXfr;
let anchor: string;
let zoneId: string;

const served = () => s.server.manager.version(origin)!.serial;
const at = () => ({ host: s.host, port: s.port });
const apexSet = async (type: string) => (await dig(at(), ['+norec', ZONE, type])).answer.filter((a) => a.type === type).map((a) => a.data);
/** The DNSKEY answer as bytes (fixed ID, no DNSSEC records): what "byte for byte the same" compares. */
const dnskeyWire = async () => Buffer.from((await udpExchange(s.host, s.port, encodeQuery(origin, RRType.DNSKEY, { id: 4242 })))!).toString('hex');
const validated = async (name: string, type: string, target = at()) => {
  const r = await delv(target, anchor, ['+root=example.com', name, type]);
  expect(r.out, `${name} ${type}`).toMatch(/; fully validated/);
  return r.out;
};
async function api(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${s.api}/client/v4/zones/${zoneId}${path}`, {
    method, headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r.json();
}
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runAdminCommand(args[0], [...args.slice(1), '--api', s.api, '--token', s.token], { out: (t) => { out += t; }, err: (t) => { out += t; }, env: {} });
  return { code, out };
}

beforeAll(async () => {
  for (const [t, pkg] of [['nsupdate', 'bind9-dnsutils'], ['knsupdate', 'knot-dnsutils'], ['delv', 'bind9-dnsutils'], ['knotd', 'knot']]) requireTool(t, pkg);
  const knotPort = await freePort();
  s = await startTestServer({
    config: { tsig: [key('sync-key', SYNC), key('other-key', OTHER), key('xfr-key', XFR)] },
    zones: await exampleZoneDir((t) => t
      .replace('multi_signer: false', 'multi_signer: true')
      .replace('multi_provider: false', 'multi_provider: true')
      .replace(/^zone:\n/m, `zone:
  update:
    - key: sync-key
      allow: [{ name: "@", types: [DNSKEY, CDS, CDNSKEY, NS, CSYNC] }]
    - key: other-key
      allow: [{ name: www, types: [TXT] }]
  transfer:
    allow: [{ key: xfr-key, content: signed }]
    notify: [{ address: "127.0.0.1:${knotPort}", key: xfr-key }]
`)),
  });
  zoneId = s.server.manager.zoneByName(origin)!.id;
  const ds = s.server.manager.dnssec(zoneId).ds!;
  const [tag, alg, dt, digest] = ds.text.split(/\s+/).slice(4);
  anchor = join(s.dir, 'anchor.conf');
  await writeFile(anchor, `trust-anchors { "example.com." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
  knot = await startKnotXfr({
    keys: [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: XFR }],
    zones: [{ domain: ZONE, role: 'secondary', primary: { host: s.host, port: s.port, key: 'xfr-key' } }], port: knotPort,
  });
  await knot.waitSerial(ZONE, served());
}, 90_000);
afterAll(async () => {
  await knot?.stop();
  await s?.stop();
});

describe.each<Tool>(['nsupdate', 'knsupdate'])('%s -y: an external DNSKEY and an apex NS', (tool) => {
  const zsk = generateKey(tool === 'nsupdate' ? 256 : 257).dnskey;
  const ns = `ns-${tool}.other-provider.net.`;

  it('adds another provider\'s DNSKEY: served in the DNSKEY RRset, signed by our KSK (delv), held by ddns in the API', async () => {
    const before = served();
    const r = await update(s, tool, [`update add ${ZONE} 300 DNSKEY ${dnskeyText(zsk)}`]);
    expect(r.status).toBe('NOERROR');
    expect(served()).not.toBe(before);
    expect((await apexSet('DNSKEY')).map((d) => d.replace(/\s/g, ''))).toContain(dnskeyText(zsk).replace(/\s/g, ''));
    await validated(ZONE, 'DNSKEY');
    const recs = (await api('GET', '/dns_records?type=DNSKEY')).result as any[];
    const rec = recs.find((x) => x.data.public_key === Buffer.from(zsk.subarray(4)).toString('base64'));
    expect(rec.meta.key_sources).toEqual(['ddns']);
    if (tool === 'knsupdate') {
      // A KSK of theirs: CDS/CDNSKEY list it too (RFC 8901 §8), signed by our KSK.
      expect((await apexSet('CDS')).map((d) => Number(d.split(' ')[0]))).toContain(keyTag(zsk));
      await validated(ZONE, 'CDS');
    }
  });

  it('RFC 1996: the Knot secondary gets the change by NOTIFY and IXFR and serves it validated', async () => {
    await knot.waitSerial(ZONE, served(), 20_000);
    expect(knot.logs()).toMatch(/IXFR, incoming/);
    const r = await dig({ host: knot.host, port: knot.port }, ['+norec', ZONE, 'DNSKEY']);
    expect(r.answer.map((a) => a.data.replace(/\s/g, ''))).toContain(dnskeyText(zsk).replace(/\s/g, ''));
    await validated(ZONE, 'DNSKEY', { host: knot.host, port: knot.port });
  });

  it('removes it again (its own claim): gone from the DNSKEY RRset, which still validates', async () => {
    const r = await update(s, tool, [`update delete ${ZONE} DNSKEY ${dnskeyText(zsk)}`]);
    expect(r.status).toBe('NOERROR');
    expect((await apexSet('DNSKEY')).map((d) => d.replace(/\s/g, ''))).not.toContain(dnskeyText(zsk).replace(/\s/g, ''));
    expect((await apexSet('DNSKEY'))).toHaveLength(2);
    await validated(ZONE, 'DNSKEY');
  });

  it('adds and removes an apex NS (multi_provider: served beside ours), validated', async () => {
    expect((await update(s, tool, [`update add ${ZONE} 3600 NS ${ns}`])).status).toBe('NOERROR');
    expect(await apexSet('NS')).toContain(ns);
    expect(await validated(ZONE, 'NS')).toContain(ns);
    expect((await update(s, tool, [`update delete ${ZONE} NS ${ns}`])).status).toBe('NOERROR');
    expect((await apexSet('NS')).sort()).toEqual(['ns1.example.com.', 'ns2.example.com.']);
  });
});

describe('RFC 2136 §3.2: prerequisites, each RCODE (nsupdate), nothing changed', () => {
  it.each([
    ['NXDOMAIN', 'prereq yxdomain nope.example.com'],
    ['YXDOMAIN', 'prereq nxdomain www.example.com'],
    ['NXRRSET', 'prereq yxrrset www.example.com MX'],
    ['YXRRSET', 'prereq nxrrset www.example.com A'],
    ['NXRRSET', 'prereq yxrrset www.example.com A 192.0.2.99'],
  ])('%s for `%s`', async (rcode, prereq) => {
    const before = served();
    const r = await update(s, 'nsupdate', [prereq, `update add ${ZONE} 3600 NS ns-prereq.other.net.`]);
    expect(r.status).toBe(rcode);
    expect(served()).toBe(before);
    expect(await apexSet('NS')).not.toContain('ns-prereq.other.net.');
  });

  it('met prerequisites let the update through (yxrrset with the exact value, nxdomain of a free name)', async () => {
    const r = await update(s, 'nsupdate', ['prereq yxrrset www.example.com A 192.0.2.1', 'prereq nxdomain free.example.com', `update add ${ZONE} 3600 NS ns-prereq.other.net.`, `update delete ${ZONE} NS ns-prereq.other.net.`]);
    expect(r.status).toBe('NOERROR');
  });

  it('NOTZONE for an update outside the zone', async () => {
    expect((await update(s, 'nsupdate', ['update add www.example.org. 300 A 192.0.2.1'])).status).toBe('NOTZONE');
  });

  it('FORMERR for a prerequisite with a TTL (§3.2.1), sent signed by hand', async () => {
    const msg = encodeMessage({
      id: 77, qr: false, opcode: 5, question: { name: origin, type: RRType.SOA, class: RRClass.IN },
      answer: [{ name: Name.fromText('www.example.com.'), type: RRType.A, class: RRClass.ANY, ttl: 60, rdata: new Uint8Array(0) }],
    });
    const { wire } = signRequest(msg, key('sync-key', SYNC), Math.floor(Date.now() / 1000));
    const r = await udpExchange(s.host, s.port, wire, 3000);
    expect(r![3] & 0xf).toBe(Rcode.FORMERR);
  });
});

describe('what must not change: the DNSKEY RRset byte for byte, and the serial', () => {
  const ours = () => s.server.manager.dnssec(zoneId).keys.filter((k) => k.source === 'own').map((k) => k.dnskey);
  const cases: [string, () => Promise<UpdateSent>, string][] = [
    ['outside the policy (sync-key may not change www A)', () => update(s, 'nsupdate', ['update add www.example.com 300 A 192.0.2.77']), 'REFUSED'],
    ['another key, outside its own grant', () => update(s, 'knsupdate', [`update add ${ZONE} 300 DNSKEY ${dnskeyText(generateKey(256).dnskey)}`], { key: 'other-key', secret: OTHER }), 'REFUSED'],
    ['unsigned', () => update(s, 'nsupdate', [`update add ${ZONE} 300 DNSKEY ${dnskeyText(generateKey(256).dnskey)}`], { unsigned: true }), 'NOTAUTH'],
    ['the right key name with a wrong secret (BADSIG)', () => update(s, 'nsupdate', [`update add ${ZONE} 300 DNSKEY ${dnskeyText(generateKey(256).dnskey)}`], { secret: OTHER }), 'NOTAUTH'],
    ['our own ZSK deleted', () => update(s, 'knsupdate', [`update delete ${ZONE} DNSKEY ${dnskeyText(ours()[1])}`]), 'REFUSED'],
    ['our own KSK deleted', () => update(s, 'nsupdate', [`update delete ${ZONE} DNSKEY ${dnskeyText(ours()[0])}`]), 'REFUSED'],
    ['RFC 2136 §3.4.2.1 atomicity: the first RR is fine, the second refused (our key)', () => update(s, 'nsupdate', [
      `update add ${ZONE} 300 DNSKEY ${dnskeyText(generateKey(256).dnskey)}`, `update add ${ZONE} 3600 NS ns-atomic.other.net.`, `update delete ${ZONE} DNSKEY ${dnskeyText(ours()[1])}`,
    ]), 'REFUSED'],
  ];
  it.each(cases)('%s', async (_what, send, rcode) => {
    const wire = await dnskeyWire();
    const before = served();
    const r = await send();
    expect(r.status).toBe(rcode);
    expect(await dnskeyWire()).toBe(wire);
    expect(served()).toBe(before);
    expect(await apexSet('NS')).not.toContain('ns-atomic.other.net.');
  });

  it('RFC 2136 §3.1.2: a zone we do not serve is NOTAUTH', async () => {
    const r = await new Promise<string>((resolve) => {
      const c = execFile('nsupdate', [], { timeout: 20_000 }, (_e, so, se) => resolve(`${so}${se}`));
      c.stdin!.end(`server 127.0.0.1 ${s.port}\nzone example.org\nupdate add www.example.org 300 A 192.0.2.1\nsend\n`);
    });
    expect(r).toMatch(/NOTAUTH/);
  });
});

describe('CSYNC (RFC 7477) and another provider\'s CDS/CDNSKEY: by UPDATE, API and CLI, validated by delv', () => {
  const theirKsk = generateKey(257).dnskey;
  const cds = formatRdata(RRType.CDS, dsRdata(origin, theirKsk, 2));

  it('UPDATE: CSYNC published and signed', async () => {
    const r = await update(s, 'nsupdate', [`update add ${ZONE} 3600 CSYNC ${served()} 1 A NS AAAA`]);
    expect(r.status).toBe('NOERROR');
    expect(await validated(ZONE, 'CSYNC')).toMatch(/CSYNC\s+\d+ 1 A NS AAAA/);
    expect((await update(s, 'knsupdate', [`update delete ${ZONE} CSYNC`])).status).toBe('NOERROR');
    expect(await apexSet('CSYNC')).toEqual([]);
  });

  it('API: CSYNC through dns_records, one per zone (a second POST is refused, PUT replaces)', async () => {
    const posted = await api('POST', '/dns_records', { type: 'CSYNC', name: ZONE, content: `${served()} 2 NS`, ttl: 3600 });
    expect(posted.success).toBe(true);
    expect((await api('POST', '/dns_records', { type: 'CSYNC', name: ZONE, content: '1 0 A', ttl: 3600 })).success).toBe(false);
    expect(await validated(ZONE, 'CSYNC')).toMatch(/CSYNC\s+\d+ 2 NS/);
    await api('PUT', `/dns_records/${posted.result.id}`, { type: 'CSYNC', name: ZONE, content: '7 3 NS A', ttl: 3600 });
    expect(await apexSet('CSYNC')).toEqual(['7 3 A NS']);
    expect((await api('DELETE', `/dns_records/${posted.result.id}`)).success).toBe(true);
  });

  it('CLI: tandem csync publish takes the served serial; remove withdraws it', async () => {
    const serial = served();
    const r = await cli(['csync', ZONE, 'publish', '--immediate', '--soaminimum', '--types', 'NS,A,AAAA']);
    expect(r.code, r.out).toBe(0);
    expect(await validated(ZONE, 'CSYNC')).toMatch(new RegExp(`CSYNC\\s+${serial} 3 A NS AAAA`));
    expect((await cli(['csync', ZONE])).out).toContain(`CSYNC ${serial} 3 A NS AAAA`);
    expect((await cli(['csync', ZONE, 'remove'])).code).toBe(0);
    expect(await apexSet('CSYNC')).toEqual([]);
  });

  it('UPDATE: their CDS and CDNSKEY (a KSK we do not serve) beside ours, validated; removed again', async () => {
    const r = await update(s, 'knsupdate', [`update add ${ZONE} 3600 CDS ${cds}`, `update add ${ZONE} 3600 CDNSKEY ${dnskeyText(theirKsk)}`]);
    expect(r.status).toBe('NOERROR');
    expect(await apexSet('CDS')).toHaveLength(2);
    expect(await apexSet('DNSKEY')).toHaveLength(2);
    await validated(ZONE, 'CDS');
    await validated(ZONE, 'CDNSKEY');
    expect((await update(s, 'nsupdate', [`update delete ${ZONE} CDS`, `update delete ${ZONE} CDNSKEY ${dnskeyText(theirKsk)}`])).status).toBe('NOERROR');
    expect(await apexSet('CDS')).toHaveLength(1);
    expect(await apexSet('CDNSKEY')).toHaveLength(1);
  });

  it('API and CLI: their CDS through dns_records and tandem cds, validated', async () => {
    const posted = await api('POST', '/dns_records', { type: 'CDS', name: ZONE, data: { key_tag: keyTag(theirKsk), algorithm: 13, digest_type: 2, digest: cds.split(' ')[3] }, ttl: 3600 });
    expect(posted.success, JSON.stringify(posted.errors)).toBe(true);
    await validated(ZONE, 'CDS');
    expect((await api('DELETE', `/dns_records/${posted.result.id}`)).success).toBe(true);
    expect((await cli(['cds', ZONE, 'add', `CDNSKEY ${dnskeyText(theirKsk)}`])).code).toBe(0);
    expect(await apexSet('CDNSKEY')).toHaveLength(2);
    await validated(ZONE, 'CDNSKEY');
    expect((await cli(['cds', ZONE])).out).toContain('CDNSKEY');
    const rm = await cli(['cds', ZONE, 'remove', `CDNSKEY ${dnskeyText(theirKsk)}`]);
    expect(rm.code, rm.out).toBe(0);
    expect(await apexSet('CDNSKEY')).toHaveLength(1);
  });
});

describe('--workers 2: UPDATE reaches a worker, which hands it to the primary', () => {
  let dir: string;
  let p: ServeProcess;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-update-cluster-'));
    await mkdir(join(dir, 'zones'));
    await writeFile(join(dir, 'tandem.yaml'), `tsig:\n  - { name: sync-key, algorithm: hmac-sha256, secret: "${SYNC}" }\n`);
    await writeFile(join(dir, 'zones', 'example.com.yaml'), `zone:
  soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1 }
  nameservers: [ns1.example.com.]
  multi_provider: true
  update:
    - { key: sync-key, allow: [{ name: "@", types: [NS] }] }
records:
  ns1: { type: A, value: 127.0.0.1 }
`);
    p = await serve(['--config', join(dir, 'tandem.yaml'), '--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2'], {}, 60_000);
  }, 90_000);
  afterAll(async () => {
    if (p?.child.exitCode === null) p.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('nsupdate adds an apex NS; every worker serves it', async () => {
    const r = await update({ port: p.port } as TestServer, 'nsupdate', [`update add ${ZONE} 3600 NS ns.cluster-peer.net.`]);
    expect(r.status).toBe('NOERROR');
    for (let i = 0; i < 6; i++) {
      const ns = await waitFor(async () => {
        const x = await dig({ host: '127.0.0.1', port: p.port }, ['+norec', `+${i % 2 ? 'tcp' : 'notcp'}`, ZONE, 'NS']);
        return x.answer.some((a) => a.data === 'ns.cluster-peer.net.') && x;
      }, 10_000, { what: 'the new NS served' });
      expect(ns.answer).toHaveLength(2);
    }
  });
});
