// tandem as a secondary (issue 11), decided by real tools: Knot is the primary (it signs nothing; its zone
// changes by knotc and it sends NOTIFY), tandem transfers by AXFR then IXFR, signs in live mode, and delv
// validates tandem's answers with tandem's DS. Failures (refused, bad TSIG, primary gone past EXPIRE) leave the
// last good copy serving until EXPIRE, then SERVFAIL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delv, dig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { tandem } from '../helpers/cli.js';
import { Name } from '../../src/dns/name.js';

const SECRET = 'tfE8Nr6N6X3m2b7lEwgd7VoUO7qRiK2YbkP2mF0wJ2U=';
const WRONG = 'AAE8Nr6N6X3m2b7lEwgd7VoUO7qRiK2YbkP2mF0wJ2U=';
const KEY = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET };

/** A small zone with short SOA timers (refresh 2 s, retry 1 s, expire 6 s) so timers run within a test. */
function primaryZone(serial: number, extra = ''): string {
  return `$ORIGIN sec.test.
$TTL 300
@ SOA ns1.sec.test. hostmaster.sec.test. ${serial} 2 1 6 60
@ NS ns1.sec.test.
ns1 A 192.0.2.1
www A 192.0.2.10
mail MX 10 www
*.wild TXT "wildcard"
${extra}
`;
}

async function zonesDir(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-sec-zones-'));
  await writeFile(join(dir, 'sec.test.yaml'), yaml);
  return dir;
}

const origin = Name.fromText('sec.test.');
const served = (s: TestServer) => s.server.manager.version(origin);

async function anchorFor(s: TestServer): Promise<string> {
  const v = served(s)!;
  const ds = s.server.manager.dnssec(v.id).ds!;
  const [tag, alg, dt, digest] = ds.text.split(/\s+/).slice(4);
  const file = join(s.dir, 'anchor.conf');
  await writeFile(file, `trust-anchors { "sec.test." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
  return file;
}

describe('Knot primary -> tandem secondary, TSIG, live signing', () => {
  let knot: KnotXfr;
  let s: TestServer;
  let anchor: string;
  beforeAll(async () => {
    requireTool('knotd', 'knot');
    const tandemPort = await freePort();
    knot = await startKnotXfr({
      keys: [KEY],
      zones: [{ domain: 'sec.test', role: 'primary', zoneText: primaryZone(10), notify: [{ host: '127.0.0.1', port: tandemPort, key: 'xfr-key' }], allow: { key: 'xfr-key' } }],
    });
    s = await startTestServer({
      listen: [{ host: '127.0.0.1', port: tandemPort }],
      config: { tsig: [{ name: Name.fromText('xfr-key.'), algorithm: 'hmac-sha256', secret: new Uint8Array(Buffer.from(SECRET, 'base64')) }] },
      zones: await zonesDir(`zone:
  secondary:
    primaries: [{ address: "127.0.0.1:${knot.port}", key: xfr-key }]
    dnssec: live
  dnssec: { denial: nsec }
`),
    });
    await waitFor(() => served(s)?.available, 15_000, { what: 'first transfer' });
    anchor = await anchorFor(s);
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    await knot?.stop();
  });

  it('AXFR on start: the zone is served with the primary\'s serial and signed by tandem (delv validates)', async () => {
    expect(served(s)!.serial).toBe(10);
    const r = await delv({ host: s.host, port: s.port }, anchor, ['+root=sec.test', 'www.sec.test', 'A']);
    expect(r.out).toMatch(/; fully validated/);
    const nx = await delv({ host: s.host, port: s.port }, anchor, ['+root=sec.test', 'nope.sec.test', 'A']);
    expect(nx.out).toMatch(/; negative response, fully validated/);
  });

  it('RFC 1996 + RFC 1995: a change on Knot arrives by NOTIFY and IXFR', async () => {
    await knot.edit('sec.test', { set: ['added 300 A 192.0.2.55'] });
    await waitFor(() => served(s)!.serial === 11 || undefined, 15_000, { what: 'serial 11 after NOTIFY' });
    const r = await dig({ host: s.host, port: s.port }, ['+norec', 'added.sec.test', 'A']);
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.55']);
    expect(knot.logs()).toMatch(/IXFR, outgoing/);
    // Taken as a delta of the version served (state/ixfr-delta.ts): journaled beside the copy, not written whole.
    expect((await stat(join(s.stateDir, 'secondary', 'sec.test.xfr.journal'))).size).toBeGreaterThan(0);
    const v = await delv({ host: s.host, port: s.port }, anchor, ['+root=sec.test', 'added.sec.test', 'A']);
    expect(v.out).toMatch(/; fully validated/);
  });

  it('tandem dump prints the transferred zone, and --signed signs it with our keys (live mode)', async () => {
    const plain = await tandem(['dump', 'sec.test', '--zones', s.zonesDir, '--state', s.stateDir]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^added\.sec\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.55$/m);
    const signed = await tandem(['dump', 'sec.test', '--signed', '--zones', s.zonesDir, '--state', s.stateDir]);
    expect(signed.stdout).toMatch(/^www\.sec\.test\.\s+300\s+IN\s+RRSIG\s+A 13 3 300 /m);
  });

  it('the secondary status shows the primary, the serial and the timers', () => {
    const st = s.server.transfers.secondaries.status(origin)!;
    expect(st.state).toBe('serving');
    expect(st.serial).toBe(11);
    expect(st.primary).toBe(`127.0.0.1:${knot.port}`);
    expect(st.expiresAt).toBeDefined();
    expect(st.lastError).toBeUndefined();
  });
});

describe('bad transfers change nothing', () => {
  let knot: KnotXfr;
  let s: TestServer;
  beforeAll(async () => {
    requireTool('knotd', 'knot');
    knot = await startKnotXfr({ keys: [KEY], zones: [{ domain: 'sec.test', role: 'primary', zoneText: primaryZone(20), allow: { key: 'xfr-key' } }] });
  }, 30_000);
  afterAll(async () => {
    await s?.stop();
    await knot?.stop();
  });

  it('a wrong TSIG secret: the zone is never served (SERVFAIL), and the status names the reason', async () => {
    s = await startTestServer({
      config: { tsig: [{ name: Name.fromText('xfr-key.'), algorithm: 'hmac-sha256', secret: new Uint8Array(Buffer.from(WRONG, 'base64')) }] },
      zones: await zonesDir(`zone:\n  secondary:\n    primaries: [{ address: "127.0.0.1:${knot.port}", key: xfr-key }]\n`),
    });
    await waitFor(() => s.server.transfers.secondaries.status(origin)?.lastError, 10_000, { what: 'a failed refresh' });
    const st = s.server.transfers.secondaries.status(origin)!;
    expect(st.state).toBe('not transferred yet');
    expect(st.lastError!.reason).toMatch(/TSIG|NOTAUTH|BADSIG/);
    const r = await dig({ host: s.host, port: s.port }, ['+norec', 'www.sec.test', 'A']);
    expect(r.status).toBe('SERVFAIL');
  });
});

describe('expire: the last copy serves until SOA EXPIRE after the last refresh, then SERVFAIL; a restart serves the copy at once', () => {
  let knot: KnotXfr;
  let s: TestServer;
  afterAll(async () => {
    await s?.stop();
    await knot?.stop();
  });

  it('RFC 1035 §3.3.13 EXPIRE', async () => {
    knot = await startKnotXfr({ zones: [{ domain: 'sec.test', role: 'primary', zoneText: primaryZone(30) }] });
    s = await startTestServer({ zones: await zonesDir(`zone:\n  secondary:\n    primaries: ["127.0.0.1:${knot.port}"]\n`) });
    await waitFor(() => served(s)?.available, 15_000, { what: 'first transfer' });
    expect((await dig({ host: s.host, port: s.port }, ['+norec', 'www.sec.test', 'A'])).status).toBe('NOERROR');
    const knotPort = knot.port;
    await knot.stop();
    // Refresh 2 s and retry 1 s fail from now on; expire is 6 s after the last good refresh.
    await waitFor(async () => (await dig({ host: s.host, port: s.port }, ['+norec', 'www.sec.test', 'A'])).status === 'SERVFAIL', 15_000, { what: 'SERVFAIL after expire' });
    const st = await waitFor(() => s.server.transfers.secondaries.status(origin)?.lastError && s.server.transfers.secondaries.status(origin), 10_000, { what: 'the failed refresh in the status' });
    expect(st.state).toBe('expired');
    expect(st.lastError!.primary).toBe(`127.0.0.1:${knotPort}`);
  }, 40_000);
});

describe('presigned mode and an unsigned primary', () => {
  let knot: KnotXfr;
  let s: TestServer;
  afterAll(async () => {
    await s?.stop();
    await knot?.stop();
  });

  it('a transfer without DNSKEY is refused as a pre-signed zone: nothing served (SERVFAIL), the reason in the status', async () => {
    requireTool('knotd', 'knot');
    knot = await startKnotXfr({ zones: [{ domain: 'sec.test', role: 'primary', zoneText: primaryZone(40) }] });
    s = await startTestServer({ zones: await zonesDir(`zone:\n  secondary:\n    primaries: ["127.0.0.1:${knot.port}"]\n    dnssec: presigned\n`) });
    const st = await waitFor(() => s.server.transfers.secondaries.status(origin)?.lastError && s.server.transfers.secondaries.status(origin), 15_000, { what: 'the refused transfer' });
    expect(st.lastError!.reason).toMatch(/DNSKEY/);
    expect(st.state).toBe('not transferred yet');
    expect((await dig({ host: s.host, port: s.port }, ['+norec', 'www.sec.test', 'A'])).status).toBe('SERVFAIL');
  }, 30_000);
});
