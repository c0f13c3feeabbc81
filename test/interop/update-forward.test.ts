// UPDATE forwarding (RFC 2136 §6), decided by real tools: Knot is the primary and applies UPDATE signed with a key
// only Knot knows (upd-key; tandem's config has the transfer key alone), tandem is its secondary with
// `forward_updates`, nsupdate and knsupdate send to tandem. The primary's answer is relayed unchanged (RFC 8945
// §5.3: its TSIG too, so nsupdate verifies Knot's signature), the change comes back to tandem by NOTIFY and IXFR,
// a wrong secret gets Knot's NOTAUTH/BADSIG, forwarding off is REFUSED, a primary that is down SERVFAIL at once.
// Then a tandem primary with zone.update behind a tandem secondary, and the same with `--workers 2`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { sendUpdate } from '../helpers/nsupdate.js';
import { udpExchange } from '../helpers/client.js';
import { scrape } from '../helpers/prom.js';
import { Name } from '../../src/dns/name.js';
import { Opcode, RRClass, RRType, Rcode } from '../../src/dns/types.js';
import { encodeMessage } from '../../src/dns/writer.js';
import { signRequest } from '../../src/dns/tsig.js';
import { readMessage } from '../../src/dns/reader.js';

const XFR = 'eGZyLWtleS1mb3ItdGhlLWZvcndhcmRpbmctdGVzdHMhIQ==';
const UPD = 'dXBkLWtleS1mb3ItdGhlLWZvcndhcmRpbmctdGVzdHMhIQ==';
const WRONG = 'd3Jvbmctc2VjcmV0LWZvci10aGUtZm9yd2FyZC10ZXN0cyE=';
const tsigKey = (name: string, secret: string) => ({ name: Name.fromText(`${name}.`), algorithm: 'hmac-sha256' as const, secret: new Uint8Array(Buffer.from(secret, 'base64')) });
const upd = { name: 'upd-key', secret: UPD };

const knotZone = (origin: string) => `$ORIGIN ${origin}.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.1
`;

let knot: KnotXfr;
let s: TestServer;
let a: TestServer;
let zones: string;
const at = () => ({ host: '127.0.0.1', port: s.port });
const served = (srv: TestServer, zone: string) => srv.server.manager.version(Name.fromText(`${zone}.`));
const answers = async (target: { host: string; port: number }, name: string, type = 'A') => (await dig(target, ['+norec', name, type])).answer.filter((r) => r.type === type).map((r) => r.data);

beforeAll(async () => {
  for (const [t, pkg] of [['nsupdate', 'bind9-dnsutils'], ['knsupdate', 'knot-dnsutils'], ['knotd', 'knot']]) requireTool(t, pkg);
  const port = await freePort();
  const notify = [{ host: '127.0.0.1', port, key: 'xfr-key' }];
  knot = await startKnotXfr({
    keys: [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: XFR }, { name: 'upd-key', algorithm: 'hmac-sha256', secret: UPD }],
    zones: ['fwd.test', 'off.test'].map((d) => ({ domain: d, role: 'primary' as const, zoneText: knotZone(d), notify, allow: { key: 'xfr-key', update: 'upd-key' } })),
  });
  // tandem A: a primary taking UPDATE with upd-key (zone.update), NOTIFY to tandem S.
  const aZones = await mkdtemp(join(tmpdir(), 'tandem-fwd-a-'));
  await writeFile(join(aZones, 'tp.test.yaml'), `zone:
  soa: { mname: ns1.tp.test., rname: hostmaster.tp.test., serial: 1 }
  nameservers: [ns1.tp.test.]
  serial_policy: increment
  transfer: { allow: [{ key: xfr-key }], notify: [{ address: "127.0.0.1:${port}", key: xfr-key }] }
  update: [{ key: upd-key, allow: [{ name: dyn, subdomain: true, types: [A, TXT] }] }]
records:
  ns1: { type: A, value: 192.0.2.1 }
`);
  a = await startTestServer({ zones: aZones, config: { tsig: [tsigKey('xfr-key', XFR), tsigKey('upd-key', UPD)] } });
  await rm(aZones, { recursive: true, force: true });
  // tandem S, the secondary: knows xfr-key only.
  zones = await mkdtemp(join(tmpdir(), 'tandem-fwd-s-'));
  const sec = (primary: number, forward: string) => `zone:\n  secondary:\n    primaries: [{ address: "127.0.0.1:${primary}", key: xfr-key }]\n${forward}`;
  await writeFile(join(zones, 'fwd.test.yaml'), sec(knot.port, '    forward_updates: true\n'));
  await writeFile(join(zones, 'off.test.yaml'), sec(knot.port, ''));
  await writeFile(join(zones, 'only.test.yaml'), `zone:\n  secondary:\n    primaries: [{ address: "127.0.0.1:${knot.port}", key: xfr-key }]\n    forward_updates: { allow: [192.0.2.0/24] }\n`);
  await writeFile(join(zones, 'tp.test.yaml'), sec(a.port, '    forward_updates: true\n'));
  const down = await freePort();
  await writeFile(join(zones, 'down.test.yaml'), `zone:\n  secondary:\n    primaries: ["127.0.0.1:${down}", "127.0.0.1:${await freePort()}"]\n    forward_updates: true\n`);
  s = await startTestServer({ zones, listen: [{ host: '127.0.0.1', port }], config: { tsig: [tsigKey('xfr-key', XFR)] } });
  await waitFor(() => ['fwd.test', 'off.test', 'tp.test'].every((z) => served(s, z)?.available), 20_000, { what: 'first transfers' });
}, 90_000);
afterAll(async () => {
  await s?.stop();
  await a?.stop();
  await knot?.stop();
  if (zones) await rm(zones, { recursive: true, force: true });
});

describe('Knot primary -> tandem secondary with forward_updates', () => {
  it('RFC 2136 §6: nsupdate -y (UDP) at tandem adds a record at Knot; NOTIFY + IXFR bring it back and dig at tandem sees it', async () => {
    const r = await sendUpdate('nsupdate', at(), 'fwd.test', ['update add new.fwd.test. 300 A 192.0.2.77'], { key: upd });
    // nsupdate checked the answer's TSIG: Knot's signature with upd-key, relayed unchanged (tandem does not have the key).
    expect(r.status, r.out).toBe('NOERROR');
    expect(r.out).toMatch(/TSIG PSEUDOSECTION:\s*\nupd-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/);
    expect(r.out).not.toMatch(/TSIG error|verify fail|expected a TSIG/i);
    expect(await answers({ host: knot.host, port: knot.port }, 'new.fwd.test')).toEqual(['192.0.2.77']);
    await waitFor(() => served(s, 'fwd.test')!.serial === 2 || undefined, 15_000, { what: 'fwd.test serial 2 at tandem' });
    expect(await answers(at(), 'new.fwd.test')).toEqual(['192.0.2.77']);
  });

  it('knsupdate over TCP: forwarded too, and the metric counts the forwarded UPDATEs by the primary\'s answer', async () => {
    const r = await sendUpdate('knsupdate', at(), 'fwd.test', ['update add tcp.fwd.test. 300 TXT "over tcp"'], { key: upd, tcp: true });
    expect(r.status, r.out).toBe('NOERROR');
    await waitFor(async () => (await answers(at(), 'tcp.fwd.test', 'TXT')).length > 0 || undefined, 15_000, { what: 'tcp.fwd.test TXT at tandem' });
    const m = await scrape(`${s.api}/metrics`);
    expect(m.value('tandem_updates_forwarded_total', { zone: 'fwd.test.', result: 'noerror' })).toBe(2);
  });

  it('RFC 8945 §5.2: a wrong secret gets the primary\'s NOTAUTH with TSIG error BADSIG (tandem alone would say BADKEY: it has no upd-key)', async () => {
    const r = await sendUpdate('nsupdate', at(), 'fwd.test', ['update add bad.fwd.test. 300 A 192.0.2.66'], { key: { name: 'upd-key', secret: WRONG } });
    expect(r.status, r.out).toBe('NOTAUTH');
    const zone = Name.fromText('fwd.test.');
    const msg = signRequest(encodeMessage({ id: 0x5151, qr: false, opcode: Opcode.UPDATE, question: { name: zone, type: RRType.SOA, class: RRClass.IN } }), tsigKey('upd-key', WRONG), Math.floor(Date.now() / 1000)).wire;
    const resp = readMessage((await udpExchange(s.host, s.port, msg))!);
    expect(resp.ok).toBe(true);
    if (!resp.ok) return;
    expect(resp.message).toMatchObject({ id: 0x5151, qr: true, opcode: Opcode.UPDATE, rcode: Rcode.NOTAUTH });
    expect(resp.message.tsig?.error).toBe(16); // BADSIG: Knot knows the key; tandem does not
    expect(await answers(at(), 'bad.fwd.test')).toEqual([]);
    expect(await answers({ host: knot.host, port: knot.port }, 'bad.fwd.test')).toEqual([]);
  });

  it('forwarding off (the default) is REFUSED by tandem; nothing reaches the primary', async () => {
    const line = ['update add x.off.test. 300 A 192.0.2.5'];
    expect((await sendUpdate('nsupdate', at(), 'off.test', line)).status).toBe('REFUSED');
    // Signed with a key tandem has: REFUSED too (signed, nsupdate checks it).
    const signed = await sendUpdate('nsupdate', at(), 'off.test', line, { key: { name: 'xfr-key', secret: XFR } });
    expect(signed.status, signed.out).toBe('REFUSED');
    // With a key only the primary has, tandem's TSIG check comes first: NOTAUTH (BADKEY), as before forwarding existed.
    expect((await sendUpdate('nsupdate', at(), 'off.test', line, { key: upd })).status).toBe('NOTAUTH');
    expect(await answers({ host: knot.host, port: knot.port }, 'x.off.test')).toEqual([]);
  });

  it('a client outside forward_updates.allow is REFUSED', async () => {
    const u = await sendUpdate('nsupdate', at(), 'only.test', ['update add x.only.test. 300 A 192.0.2.5']);
    expect(u.status, u.out).toBe('REFUSED');
  });

  it('every primary down: SERVFAIL at once (connection refused)', async () => {
    const r = await sendUpdate('nsupdate', at(), 'down.test', ['update add x.down.test. 300 A 192.0.2.5'], { key: upd, timeoutMs: 15_000 });
    expect(r.status, r.out).toBe('SERVFAIL');
    expect(r.ms).toBeLessThan(8000);
    const m = await scrape(`${s.api}/metrics`);
    expect(m.value('tandem_updates_forwarded_total', { zone: 'down.test.', result: 'unreachable' })).toBe(1);
  });
});

describe('tandem primary (zone.update) -> tandem secondary with forward_updates', () => {
  it('nsupdate at the secondary: the primary applies it within its policy, the secondary serves it after NOTIFY + IXFR', async () => {
    const r = await sendUpdate('nsupdate', at(), 'tp.test', ['update add host.dyn.tp.test. 300 A 192.0.2.91'], { key: upd });
    expect(r.status, r.out).toBe('NOERROR');
    expect(await answers({ host: a.host, port: a.port }, 'host.dyn.tp.test')).toEqual(['192.0.2.91']);
    await waitFor(async () => (await answers(at(), 'host.dyn.tp.test')).length > 0 || undefined, 15_000, { what: 'host.dyn.tp.test at the secondary' });
    // Outside the primary's policy: its REFUSED, relayed.
    const no = await sendUpdate('nsupdate', at(), 'tp.test', ['update add www.tp.test. 300 A 192.0.2.92'], { key: upd });
    expect(no.status, no.out).toBe('REFUSED');
  });
});

describe('--workers 2', () => {
  let p: ServeProcess;
  let dir: string;
  let down: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-fwd-workers-'));
    await mkdir(join(dir, 'zones'));
    await writeFile(join(dir, 'tandem.yaml'), `tsig:\n  - { name: xfr-key, algorithm: hmac-sha256, secret: "${XFR}" }\n`);
    await writeFile(join(dir, 'zones', 'fwd.test.yaml'), `zone:\n  secondary:\n    primaries: [{ address: "127.0.0.1:${knot.port}", key: xfr-key }]\n    forward_updates: true\n`);
    down = await freePort();
    await writeFile(join(dir, 'zones', 'down.test.yaml'), `zone:\n  secondary:\n    primaries: ["127.0.0.1:${down}"]\n    forward_updates: true\n`);
    p = await serve(['--config', join(dir, 'tandem.yaml'), '--listen', '127.0.0.1:0', '--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2', '--api', 'off'], {}, 60_000);
    await waitFor(async () => (await dig({ host: '127.0.0.1', port: p.port }, ['+norec', 'fwd.test', 'SOA'])).status === 'NOERROR' || undefined, 20_000, { what: 'fwd.test served by the workers' });
  }, 90_000);
  afterAll(async () => {
    if (p?.child.exitCode === null) p.child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('UDP and TCP UPDATEs through a worker reach Knot and its signed answer comes back', async () => {
    const target = { host: '127.0.0.1', port: p.port };
    expect((await sendUpdate('nsupdate', target, 'fwd.test', ['update add w1.fwd.test. 300 A 192.0.2.101'], { key: upd })).status).toBe('NOERROR');
    expect((await sendUpdate('nsupdate', target, 'fwd.test', ['update add w2.fwd.test. 300 A 192.0.2.102'], { key: upd, tcp: true })).status).toBe('NOERROR');
    expect(await answers({ host: knot.host, port: knot.port }, 'w1.fwd.test')).toEqual(['192.0.2.101']);
    expect(await answers({ host: knot.host, port: knot.port }, 'w2.fwd.test')).toEqual(['192.0.2.102']);
    expect(p.logs()).toMatch(/UPDATE forwarded to the primary/);
  });

  it('a primary down: SERVFAIL, and the log line names the primary tried', async () => {
    const r = await sendUpdate('nsupdate', { host: '127.0.0.1', port: p.port }, 'down.test', ['update add x.down.test. 300 A 192.0.2.5'], { key: upd });
    expect(r.status, r.out).toBe('SERVFAIL');
    expect(p.logs()).toMatch(new RegExp(`"zone":"down\\.test\\."[^\\n]*tried 127\\.0\\.0\\.1:${down}\\), SERVFAIL`));
  });
});
