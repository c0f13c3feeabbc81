// The UPDATE clients of issue 12 that are Go programs packaged neither by Debian nor by npm: external-dns's rfc2136
// provider (with its TXT registry) and dnscontrol's AXFRDDNS provider; and certbot's dns-rfc2136 plugin, whose own
// code (Debian's python3-certbot-dns-rfc2136) is driven without an ACME server. The Go tools' flows are reproduced
// message for message with dnspython (test/interop/ddns-clients/*.py: which sections, classes, TTLs and TSIG
// they send, as their miekg/dns code builds them) and run end to end against tandem: list by AXFR with TSIG
// (RFC 5936, RFC 8945), create, change an A record (delete of the RR, class NONE, then add: RFC 2136 §2.5),
// delete; dig reads what tandem serves, delv validates a changed name, and the same flows with a wrong key
// change nothing (serial and AXFR the same).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delv, dig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { exampleZoneDir } from '../helpers/zones.js';
import { SYSTEM_PYTHON } from '../helpers/validate.js';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/procs.js';
import { Name } from '../../src/dns/name.js';

const CLIENTS = join(import.meta.dirname, 'ddns-clients');
const ZONE = 'example.com';
const origin = Name.fromText('example.com.');
const secret = (s: string) => Buffer.from(`${s}-secret-for-the-update-client-tests!!`).toString('base64');
const tsigKey = (name: string) => ({ name: Name.fromText(`${name}.`), algorithm: 'hmac-sha256' as const, secret: new Uint8Array(Buffer.from(secret(name), 'base64')) });
/** A key as the clients take it (`--rfc2136-tsig-*`, creds.json's `hmac-sha256:NAME:SECRET`). */
const clientKey = (name: string, wrong = false) => ({ name, algorithm: 'hmac-sha256', secret: wrong ? secret(`${name}-wrong`) : secret(name) });

let s: TestServer;
let anchor: string;
const server = () => ({ host: s.host, port: s.port });
const served = () => s.server.manager.version(origin)!.serial;

/** Runs one flow script with a JSON request on stdin; its JSON answer. */
function client(script: string, req: Record<string, unknown>): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = execFile(SYSTEM_PYTHON, [join(CLIENTS, script)], { timeout: 60_000, cwd: CLIENTS, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${script}: ${err.message}\n${stderr}`));
      try { resolve(JSON.parse(stdout)); } catch { reject(new Error(`${script}: ${stdout}\n${stderr}`)); }
    });
    child.stdin!.end(JSON.stringify({ server: server(), zone: `${ZONE}.`, ...req }));
  });
}
const answer = async (name: string, type: string) => (await dig(server(), ['+norec', name, type])).answer.filter((a) => a.type === type);
const status = async (name: string, type: string) => (await dig(server(), ['+norec', name, type])).status;
const validated = async (name: string, type: string) => {
  const r = await delv(server(), anchor, ['+root=example.com', name, type]);
  expect(r.out, `${name} ${type}`).toMatch(/; fully validated/);
  return r.out;
};
/** The zone as an AXFR with the transfer key shows it: what "nothing changed" compares. */
const axfr = async () => (await client('dnscontrol_axfrddns.py', { op: 'get', transfer_key: clientKey('dnsc-xfr') })).records as string[];

beforeAll(async () => {
  for (const [t, pkg] of [['dig', 'bind9-dnsutils'], ['delv', 'bind9-dnsutils']]) requireTool(t, pkg);
  s = await startTestServer({
    config: { tsig: ['edns-key', 'dnsc-xfr', 'dnsc-upd', 'certbot-key'].map(tsigKey) },
    zones: await exampleZoneDir((t) => t
      .replace('multi_provider: false', 'multi_provider: true')
      .replace(/^zone:\n/m, `zone:
  update:
    - key: edns-key                # external-dns: the names below k8s, the types it manages
      allow: [{ name: k8s, subdomain: true, types: [A, AAAA, CNAME, TXT] }]
    - key: dnsc-upd                # dnscontrol manages the whole zone (its CNAME creates delete every RRset at the name)
      allow: [{ name: "@", subdomain: true, types: [ANY] }]
    - key: certbot-key             # certbot: the ACME challenge names only
      allow: [{ name: _acme-challenge, types: [TXT] }, { name: _acme-challenge.www, types: [TXT] }]
  transfer:
    allow: [{ key: edns-key }, { key: dnsc-xfr }]
`)),
  });
  const zoneId = s.server.manager.zoneByName(origin)!.id;
  const [tag, alg, dt, digest] = s.server.manager.dnssec(zoneId).ds!.text.split(/\s+/).slice(4);
  anchor = join(s.dir, 'anchor.conf');
  await writeFile(anchor, `trust-anchors { "example.com." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

describe('external-dns rfc2136 provider (--rfc2136-tsig-axfr, registry txt, --rfc2136-batch-change-size=2)', () => {
  const ed = (req: Record<string, unknown>, wrong = false) => client('externaldns_rfc2136.py', { key: clientKey('edns-key', wrong), batch: 2, ...req });
  const app = { name: 'app.k8s.example.com', type: 'A', targets: ['192.0.2.10'], ttl: 300, resource: 'service/default/app' };
  const api = { name: 'api.k8s.example.com', type: 'A', targets: ['192.0.2.20', '192.0.2.21'], resource: 'ingress/default/api' };
  const v6 = { name: 'v6.k8s.example.com', type: 'AAAA', targets: ['2001:db8::10'], ttl: 120, resource: 'service/default/v6' };
  const owned = async () => ((await ed({ op: 'records' })).endpoints as any[]).filter((e) => e.name.endsWith('.k8s.example.com'));

  it('RFC 5936 + RFC 8945: Records() lists the zone by a TSIG-signed AXFR, nothing under k8s yet', async () => {
    const r = await ed({ op: 'records' });
    expect(r.error).toBeUndefined();
    expect(r.endpoints).toContainEqual(expect.objectContaining({ name: 'mail.example.com', type: 'A', targets: ['192.0.2.25'] }));
    expect(await owned()).toEqual([]);
  });

  it('RFC 2136 §2.5.1: creates in batches of 2 endpoints (records, then their ownership TXTs, TTL 0 when unset), all served', async () => {
    const before = served();
    const r = await ed({ op: 'apply', changes: { create: [app, api, v6] } });
    expect(r.errors).toEqual([]);
    // 3 endpoints, then their 5 registry TXTs (old and new format; AAAA new format only), in chunks of 2: 4 messages.
    expect(r.messages.map((m: any) => m.rcode)).toEqual(['NOERROR', 'NOERROR', 'NOERROR', 'NOERROR']);
    expect(r.messages[0].lines).toEqual([
      'app.k8s.example.com. 300 IN A 192.0.2.10',
      'api.k8s.example.com. 0 IN A 192.0.2.20',
      'api.k8s.example.com. 0 IN A 192.0.2.21',
    ]);
    const txt = '"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/default/app"';
    expect(r.messages[1].lines).toEqual(['v6.k8s.example.com. 120 IN AAAA 2001:db8::10', `app.k8s.example.com. 0 IN TXT ${txt}`]);
    expect(r.messages[2].lines[0]).toBe(`a-app.k8s.example.com. 0 IN TXT ${txt}`);
    expect(served()).not.toBe(before);
    expect((await answer('app.k8s.example.com', 'A')).map((a) => [a.data, a.ttl])).toEqual([['192.0.2.10', 300]]);
    expect((await answer('api.k8s.example.com', 'A')).map((a) => [a.data, a.ttl]).sort()).toEqual([['192.0.2.20', 0], ['192.0.2.21', 0]]);
    expect((await answer('v6.k8s.example.com', 'AAAA')).map((a) => a.data)).toEqual(['2001:db8::10']);
    expect((await answer('a-app.k8s.example.com', 'TXT')).map((a) => a.data)).toEqual([txt]);
    expect((await answer('aaaa-v6.k8s.example.com', 'TXT')).map((a) => a.data)).toHaveLength(1);
    await validated('app.k8s.example.com', 'A');
    await validated('api.k8s.example.com', 'A'); // TTL 0 (external-dns's default): signed with original TTL 0
  });

  it('the TXT registry finds its ownership records in the next AXFR', async () => {
    const eps = await owned();
    for (const n of ['app', 'api', 'v6']) expect(eps.find((e) => e.name === `${n}.k8s.example.com` && e.type !== 'TXT')?.owner, n).toBe('default');
  });

  it('RFC 2136 §2.5.4: an update is a delete of each old RR (class NONE, TTL 0) and an add of the new, TXTs re-sent; delv validates the new A', async () => {
    const old = (await owned()).find((e) => e.name === app.name && e.type === 'A');
    expect(old).toMatchObject({ targets: ['192.0.2.10'], ttl: 300 });
    const before = served();
    const r = await ed({ op: 'apply', changes: { update_old: [{ ...old, resource: app.resource }], update_new: [{ ...app, targets: ['192.0.2.11'] }] } });
    expect(r.errors).toEqual([]);
    expect(r.messages).toHaveLength(2); // A + 2 TXTs, in chunks of 2
    expect(r.messages[0].lines.slice(0, 2)).toEqual(['app.k8s.example.com. 0 NONE A 192.0.2.10', 'app.k8s.example.com. 300 IN A 192.0.2.11']);
    expect(r.messages[0].lines[2]).toMatch(/^app\.k8s\.example\.com\. 0 NONE TXT "heritage=/);
    expect(served()).not.toBe(before);
    expect((await answer('app.k8s.example.com', 'A')).map((a) => a.data)).toEqual(['192.0.2.11']);
    expect(await validated('app.k8s.example.com', 'A')).toMatch(/192\.0\.2\.11/);
    // The ownership records survive their delete+add in one message.
    expect((await answer('a-app.k8s.example.com', 'TXT'))).toHaveLength(1);
    expect((await answer('app.k8s.example.com', 'TXT'))).toHaveLength(1);
  });

  it('RFC 2136 §2.5.4: a delete removes the records and their ownership TXTs: NXDOMAIN, validated', async () => {
    const old = (await owned()).find((e) => e.name === api.name && e.type === 'A');
    const r = await ed({ op: 'apply', changes: { delete: [{ ...old, resource: api.resource }] } });
    expect(r.errors).toEqual([]);
    expect(r.messages.map((m: any) => m.rcode)).toEqual(['NOERROR', 'NOERROR']);
    expect(r.messages[0].lines.slice(0, 2)).toEqual(['api.k8s.example.com. 0 NONE A 192.0.2.20', 'api.k8s.example.com. 0 NONE A 192.0.2.21']);
    expect(r.messages[1].lines).toEqual([expect.stringMatching(/^a-api\.k8s\.example\.com\. 0 NONE TXT "heritage=external-dns,/)]);
    expect(await status('api.k8s.example.com', 'A')).toBe('NXDOMAIN');
    expect(await status('a-api.k8s.example.com', 'TXT')).toBe('NXDOMAIN');
    const out = (await delv(server(), anchor, ['+root=example.com', 'api.k8s.example.com', 'A'])).out;
    expect(out).toMatch(/negative response, fully validated|resolution failed: ncache nxdomain/);
  });

  it('RFC 2136 §3.4.2.2: a CNAME endpoint: its old-format TXT beside the CNAME is ignored, the new-format one (cname-NAME) holds ownership', async () => {
    const web = { name: 'web.k8s.example.com', type: 'CNAME', targets: ['app.k8s.example.com.'], ttl: 300, resource: 'ingress/default/web' };
    const r = await ed({ op: 'apply', changes: { create: [web] } });
    expect(r.errors).toEqual([]);
    expect(r.messages.map((m: any) => m.lines.length)).toEqual([2, 1]);
    expect((await answer('web.k8s.example.com', 'CNAME')).map((a) => a.data)).toEqual(['app.k8s.example.com.']);
    const txt = await dig(server(), ['+norec', 'web.k8s.example.com', 'TXT']);
    // The CNAME followed to app's own (registry) TXT: web has no TXT of its own.
    expect(txt.answer.map((a) => `${a.name} ${a.type}`)).toEqual(['web.k8s.example.com. CNAME', 'app.k8s.example.com. TXT']);
    expect((await answer('cname-web.k8s.example.com', 'TXT'))).toHaveLength(1);
    expect((await owned()).find((e) => e.name === web.name && e.type === 'CNAME')?.owner).toBe('default');
    const gone = await ed({ op: 'apply', changes: { delete: [web] } });
    expect(gone.errors).toEqual([]);
    expect(await status('web.k8s.example.com', 'CNAME')).toBe('NXDOMAIN');
    expect(await status('cname-web.k8s.example.com', 'TXT')).toBe('NXDOMAIN');
  });

  it('RFC 7766: a batch longer than 512 octets goes over TCP (--rfc2136-batch-change-size=50), applied as one change', async () => {
    const eps = Array.from({ length: 8 }, (_, i) => ({ name: `n${i}.k8s.example.com`, type: 'A', targets: [`192.0.2.${100 + i}`], ttl: 60, resource: `service/default/n${i}` }));
    const before = served();
    const r = await ed({ op: 'apply', batch: 50, changes: { create: eps } });
    expect(r.messages.map((m: any) => [m.net, m.rcode, m.lines.length])).toEqual([['tcp', 'NOERROR', 24]]);
    expect(served()).not.toBe(before);
    expect((await answer('n7.k8s.example.com', 'A')).map((a) => a.data)).toEqual(['192.0.2.107']);
    const gone = await ed({ op: 'apply', batch: 50, changes: { delete: eps } });
    expect(gone.messages.map((m: any) => [m.net, m.rcode])).toEqual([['tcp', 'NOERROR']]);
    expect(await status('n0.k8s.example.com', 'A')).toBe('NXDOMAIN');
    expect(await status('a-n0.k8s.example.com', 'TXT')).toBe('NXDOMAIN');
  });

  it('RFC 8945 §5.2: with a wrong secret the same flows change nothing (NOTAUTH) and the AXFR is refused', async () => {
    const before = served();
    const zone = await axfr();
    const r = await ed({ op: 'apply', changes: { create: [{ ...app, name: 'evil.k8s.example.com' }], delete: [{ ...v6 }] } }, true);
    expect(r.messages.length).toBeGreaterThan(0);
    for (const m of r.messages) expect(m.rcode).toMatch(/^NOTAUTH/);
    expect(served()).toBe(before);
    expect(await axfr()).toEqual(zone);
    expect(await status('evil.k8s.example.com', 'A')).toBe('NXDOMAIN');
    expect((await ed({ op: 'records' }, true)).error).toBeDefined();
  });

  it('RFC 2136 §3.3: outside its grant (a name not under k8s) the whole message is REFUSED', async () => {
    const before = served();
    const r = await ed({ op: 'apply', batch: 50, changes: { create: [{ ...app, name: 'app2.k8s.example.com' }, { ...app, name: 'www.example.com' }] } });
    expect(r.messages.map((m: any) => m.rcode)).toEqual(['REFUSED']);
    expect(served()).toBe(before);
    expect(await status('app2.k8s.example.com', 'A')).toBe('NXDOMAIN');
  });
});

describe('dnscontrol AXFRDDNS provider (transfer-key for AXFR, update-key for UPDATE)', () => {
  const dc = (req: Record<string, unknown>, keys: { xfr?: boolean; upd?: boolean } = {}) => client('dnscontrol_axfrddns.py', {
    transfer_key: clientKey('dnsc-xfr', keys.xfr === false), update_key: clientKey('dnsc-upd', keys.upd === false), ...req,
  });
  /** The desired zone: what the AXFR showed (without the SOA), edited. */
  const desired = (records: string[], edit: (lines: string[]) => string[]) => edit(records.filter((l) => !/ SOA /.test(l)));

  it('RFC 5936: reads the zone by AXFR with the transfer key (DNSSEC records set aside); the update key may not transfer', async () => {
    const r = await dc({ op: 'get' });
    expect(r.error).toBeUndefined();
    expect(r.dnssec).toBe(true);
    expect(r.records).toContain('mail.example.com. 3600 A 192.0.2.25');
    expect(r.records.filter((l: string) => / SOA /.test(l))).toHaveLength(1);
    expect(r.records.some((l: string) => / (DNSKEY|RRSIG|NSEC) /.test(l))).toBe(false);
    const denied = await client('dnscontrol_axfrddns.py', { op: 'get', transfer_key: clientKey('dnsc-upd') });
    expect(denied.error).toMatch(/REFUSED/);
  });

  it('RFC 2136 §3.4: one UPDATE for the whole change set (creates, a CNAME after RemoveName, a change, a delete), one new serial', async () => {
    const records = (await dc({ op: 'get' })).records as string[];
    const want = desired(records, (l) => [
      ...l.filter((x) => x !== 'mail.example.com. 3600 A 192.0.2.25' && !x.startsWith('ext.example.com. ')),
      'mail.example.com. 3600 A 192.0.2.26',
      'shop.example.com. 300 A 192.0.2.50',
      'shop.example.com. 300 TXT "v=1"',
      'cdn.example.com. 300 CNAME shop.example.com.',
    ]);
    const before = served();
    const r = await dc({ op: 'push', desired: want });
    expect(r.error).toBeUndefined();
    expect(r.message.rcode).toBe('NOERROR');
    expect(r.message.lines).toEqual(expect.arrayContaining([
      'mail.example.com. 0 NONE A 192.0.2.25', 'mail.example.com. 3600 IN A 192.0.2.26',
      'ext.example.com. 0 ANY ANY', // a CNAME is deleted with RemoveName
      'cdn.example.com. 0 ANY ANY', 'cdn.example.com. 300 IN CNAME shop.example.com.',
      'shop.example.com. 300 IN A 192.0.2.50', 'shop.example.com. 300 IN TXT "v=1"',
    ]));
    expect(r.message.lines.indexOf('cdn.example.com. 0 ANY ANY')).toBe(r.message.lines.indexOf('cdn.example.com. 300 IN CNAME shop.example.com.') - 1);
    const after = served();
    expect(after).not.toBe(before);
    expect((await answer('mail.example.com', 'A')).map((a) => a.data)).toEqual(['192.0.2.26']);
    expect((await answer('shop.example.com', 'A')).map((a) => a.data)).toEqual(['192.0.2.50']);
    expect((await answer('cdn.example.com', 'CNAME')).map((a) => a.data)).toEqual(['shop.example.com.']);
    expect(await status('ext.example.com', 'CNAME')).toBe('NXDOMAIN');
    expect(await validated('mail.example.com', 'A')).toMatch(/192\.0\.2\.26/);
    // The next run finds nothing to do: the AXFR shows exactly what was pushed (TTLs included).
    const again = await dc({ op: 'push', desired: want });
    expect(again.changes).toEqual([]);
    expect(again.message).toBeNull();
    expect(served()).toBe(after);
  });

  // The apex NS RRset is served with zone.ns_ttl (86400 here) whatever TTL an UPDATE gives (RFC 2181 §5.2: one TTL
  // per RRset); a dnsconfig.js with another NS TTL would be "corrected" on every run, so it uses the zone's.
  it('apex NS: a create, then a change wrapped in the dummy NS dnscontrol.invalid. (inserted first, removed last)', async () => {
    let records = (await dc({ op: 'get' })).records as string[];
    const add = await dc({ op: 'push', desired: desired(records, (l) => [...l, 'example.com. 86400 NS ns1.other-provider.net.']) });
    expect(add.message?.rcode).toBe('NOERROR');
    expect((await answer(ZONE, 'NS')).map((a) => a.data)).toContain('ns1.other-provider.net.');
    records = (await dc({ op: 'get' })).records as string[];
    const change = await dc({ op: 'push', desired: desired(records, (l) => l.map((x) => x.replace('ns1.other-provider.net.', 'ns2.other-provider.net.'))) });
    expect(change.message?.rcode).toBe('NOERROR');
    expect(change.message.lines).toEqual([
      'example.com. 3600 IN NS dnscontrol.invalid.',
      'example.com. 0 NONE NS ns1.other-provider.net.',
      'example.com. 86400 IN NS ns2.other-provider.net.',
      'example.com. 0 NONE NS dnscontrol.invalid.',
    ]);
    const ns = (await answer(ZONE, 'NS')).map((a) => a.data).sort();
    expect(ns).toEqual(['ns1.example.com.', 'ns2.example.com.', 'ns2.other-provider.net.']);
    await validated(ZONE, 'NS');
    records = (await dc({ op: 'get' })).records as string[];
    expect((await dc({ op: 'push', desired: desired(records, (l) => l) })).changes).toEqual([]);
  });

  it('RFC 8945 §5.2: a wrong update key changes nothing (NOTAUTH); a wrong transfer key reads nothing', async () => {
    const records = (await dc({ op: 'get' })).records as string[];
    const before = served();
    const r = await dc({ op: 'push', desired: desired(records, (l) => [...l.filter((x) => !x.startsWith('shop.example.com. ')), 'evil.example.com. 300 A 192.0.2.66']) }, { upd: false });
    expect(r.message.rcode).toMatch(/^NOTAUTH/);
    expect(served()).toBe(before);
    expect(await axfr()).toEqual(records);
    expect(await status('evil.example.com', 'A')).toBe('NXDOMAIN');
    expect((await dc({ op: 'get' }, { xfr: false })).error).toBeDefined();
  });
});

describe("certbot's dns-rfc2136 plugin (its _RFC2136Client: the ACME DNS-01 challenge's TXT records)", () => {
  const certbot = (ops: unknown[], wrong = false) => client('certbot_rfc2136.py', { key: clientKey('certbot-key', wrong), ops });
  const challenge = async (name: string) => (await answer(name, 'TXT')).map((a) => a.data).sort();

  beforeAll(() => {
    try {
      execFileSync(SYSTEM_PYTHON, ['-c', 'import certbot_dns_rfc2136'], { stdio: 'ignore' });
    } catch {
      throw new Error('certbot_dns_rfc2136 is not installed: apt-get install python3-certbot-dns-rfc2136 (the README\'s test command does it)');
    }
  });

  it('RFC 2136 §2.5.1/§2.5.4: two challenges at one name (a wildcard and the apex), then each cleaned up; delv validates them and the NXDOMAIN after', async () => {
    const r = await certbot([
      { op: 'add', name: '_acme-challenge.example.com', content: 'challenge-one' },
      { op: 'add', name: '_acme-challenge.example.com', content: 'challenge-two' },
      { op: 'add', name: '_acme-challenge.www.example.com', content: 'challenge-www' },
    ]);
    expect(r.results).toEqual(['ok', 'ok', 'ok']);
    expect(await challenge('_acme-challenge.example.com')).toEqual(['"challenge-one"', '"challenge-two"']);
    expect((await answer('_acme-challenge.example.com', 'TXT'))[0].ttl).toBe(120);
    expect(await challenge('_acme-challenge.www.example.com')).toEqual(['"challenge-www"']);
    expect(await validated('_acme-challenge.example.com', 'TXT')).toMatch(/challenge-two/);
    expect((await certbot([{ op: 'del', name: '_acme-challenge.example.com', content: 'challenge-one' }])).results).toEqual(['ok']);
    expect(await challenge('_acme-challenge.example.com')).toEqual(['"challenge-two"']);
    const done = await certbot([
      { op: 'del', name: '_acme-challenge.example.com', content: 'challenge-two' },
      { op: 'del', name: '_acme-challenge.www.example.com', content: 'challenge-www' },
    ]);
    expect(done.results).toEqual(['ok', 'ok']);
    expect(await status('_acme-challenge.example.com', 'TXT')).toBe('NXDOMAIN');
    expect(await status('_acme-challenge.www.example.com', 'TXT')).toBe('NXDOMAIN');
    const out = (await delv(server(), anchor, ['+root=example.com', '_acme-challenge.example.com', 'TXT'])).out;
    expect(out).toMatch(/negative response, fully validated|resolution failed: ncache nxdomain/);
  });

  it('RFC 8945 §5.2 and RFC 2136 §3.3: a wrong secret, or a name outside the grant, is refused and changes nothing', async () => {
    const before = served();
    const r = await certbot([{ op: 'add', name: '_acme-challenge.example.com', content: 'forged' }], true);
    expect(r.results[0]).toMatch(/^PluginError/);
    const outside = await certbot([{ op: 'add', name: 'www.example.com', content: 'not-a-challenge' }]);
    expect(outside.results).toEqual(['PluginError: Received response from server: REFUSED']);
    expect(served()).toBe(before);
    expect(await status('_acme-challenge.example.com', 'TXT')).toBe('NXDOMAIN');
    expect((await answer('www.example.com', 'TXT'))).toEqual([]);
  });
});

describe('--workers 2: the AXFRs and UPDATEs reach workers, which hand them to the primary', () => {
  let dir: string;
  let p: ServeProcess;
  const at = () => ({ host: '127.0.0.1', port: p.port });
  /** The answer once every worker serves it (a worker may answer from its cache until the new version reaches it). */
  const servedEverywhere = (name: string, type: string, data: string[]) => waitFor(async () => {
    for (let i = 0; i < 6; i++) {
      const r = await dig(at(), ['+norec', `+${i % 2 ? 'tcp' : 'notcp'}`, name, type]);
      if (JSON.stringify(r.answer.filter((a) => a.type === type).map((a) => a.data).sort()) !== JSON.stringify(data)) return false;
    }
    return true;
  }, 10_000, { what: `${name} ${type} served by every worker` });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-update-clients-cluster-'));
    await mkdir(join(dir, 'zones'));
    const keys = ['edns-key', 'dnsc-xfr', 'dnsc-upd'].map((k) => `  - { name: ${k}, algorithm: hmac-sha256, secret: "${secret(k)}" }`).join('\n');
    await writeFile(join(dir, 'tandem.yaml'), `tsig:\n${keys}\n`);
    await writeFile(join(dir, 'zones', 'example.com.yaml'), `zone:
  soa: { mname: ns1.example.com., rname: hostmaster.example.com., serial: 1 }
  nameservers: [ns1.example.com.]
  update:
    - { key: edns-key, allow: [{ name: k8s, subdomain: true, types: [A, AAAA, CNAME, TXT] }] }
    - { key: dnsc-upd, allow: [{ name: "@", subdomain: true, types: [ANY] }] }
  transfer:
    allow: [{ key: edns-key }, { key: dnsc-xfr }]
records:
  ns1: { type: A, value: 127.0.0.1 }
  mail: { type: A, value: 192.0.2.25 }
`);
    p = await serve(['--config', join(dir, 'tandem.yaml'), '--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2'], {}, 60_000);
  }, 90_000);
  afterAll(async () => {
    if (p?.child.exitCode === null) p.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('external-dns: create, list, update; every worker serves the result', async () => {
    const ed = (req: Record<string, unknown>) => client('externaldns_rfc2136.py', { server: at(), key: clientKey('edns-key'), batch: 50, ...req });
    const app = { name: 'app.k8s.example.com', type: 'A', targets: ['192.0.2.10'], ttl: 300, resource: 'service/default/app' };
    expect((await ed({ op: 'apply', changes: { create: [app] } })).messages.map((m: any) => m.rcode)).toEqual(['NOERROR']);
    await servedEverywhere('app.k8s.example.com', 'A', ['192.0.2.10']);
    const listed = (await ed({ op: 'records' })).endpoints.find((e: any) => e.name === app.name && e.type === 'A');
    expect(listed).toMatchObject({ owner: 'default', targets: ['192.0.2.10'] });
    const up = await ed({ op: 'apply', changes: { update_old: [{ ...listed, resource: app.resource }], update_new: [{ ...app, targets: ['192.0.2.11'] }] } });
    expect(up.errors).toEqual([]);
    await servedEverywhere('app.k8s.example.com', 'A', ['192.0.2.11']);
  });

  it('dnscontrol: one UPDATE over TCP after an AXFR with the transfer key; the next run has nothing to do', async () => {
    const dc = (req: Record<string, unknown>) => client('dnscontrol_axfrddns.py', { server: at(), transfer_key: clientKey('dnsc-xfr'), update_key: clientKey('dnsc-upd'), ...req });
    const records = ((await dc({ op: 'get' })).records as string[]).filter((l) => !/ SOA /.test(l));
    const want = [...records.filter((l) => l !== 'mail.example.com. 3600 A 192.0.2.25'), 'mail.example.com. 3600 A 192.0.2.26'];
    const r = await dc({ op: 'push', desired: want });
    expect(r.message?.rcode).toBe('NOERROR');
    await servedEverywhere('mail.example.com', 'A', ['192.0.2.26']);
    expect((await dc({ op: 'push', desired: want })).changes).toEqual([]);
  });
});
