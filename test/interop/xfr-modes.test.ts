// The DNSSEC modes of a secondary zone (issue 11; the provider docs' "DNSSEC for Secondary DNS"), each proven
// with real tools: presigned from a signing Knot (NSEC and NSEC3) validated by delv with Knot's DS; the
// Cloudflare-as-secondary multi-signer set-up rehearsed with two tandems (A primary sending an unsigned
// transfer, B secondary in multi-signer mode) cross-validated by dnspython with both DS records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delv, dig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startKnot, type KnotInstance } from '../helpers/knot.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { tandem } from '../helpers/cli.js';
import { reportErrors, validateAnswers } from '../helpers/validate.js';
import { Name } from '../../src/dns/name.js';

const ZONE_TEXT = `$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.10
alias CNAME www
*.wild TXT "wildcard"
b.deep A 192.0.2.20
`;

async function zonesDir(name: string, yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-modes-'));
  await writeFile(join(dir, `${name}.yaml`), yaml);
  return dir;
}

async function anchorFile(dir: string, zone: string, ds: string[]): Promise<string> {
  const file = join(dir, `anchor-${zone}.conf`);
  const lines = ds.map((d) => d.trim().split(/\s+/)).map((f) => `"${zone}." static-ds ${f[4]} ${f[5]} ${f[6]} "${f.slice(7).join('')}";`);
  await writeFile(file, `trust-anchors {\n${lines.join('\n')}\n};\n`);
  return file;
}

const verdict = (out: string) => (/; negative response, fully validated/.test(out) ? 'negative' : /; fully validated/.test(out) ? 'positive' : 'failed');

for (const denial of ['nsec', 'nsec3'] as const) {
  describe(`presigned secondary of a signing Knot (${denial})`, () => {
    let knot: KnotInstance;
    let s: TestServer;
    let anchor: string;
    const origin = Name.fromText('ps.test.');
    beforeAll(async () => {
      requireTool('knotd', 'knot');
      knot = await startKnot({ zone: 'ps.test', zoneText: ZONE_TEXT, denial });
      s = await startTestServer({ zones: await zonesDir('ps.test', `zone:\n  secondary:\n    primaries: ["127.0.0.1:${knot.port}"]\n    dnssec: presigned\n`) });
      await waitFor(() => s.server.manager.version(origin)?.available, 20_000, { what: 'first transfer' });
      anchor = await anchorFile(s.dir, 'ps.test', await knot.ds());
    }, 60_000);
    afterAll(async () => {
      await s?.stop();
      await knot?.stop();
    });

    it.each([
      ['www.ps.test', 'A', 'positive'],
      ['alias.ps.test', 'A', 'positive'],
      ['x.wild.ps.test', 'TXT', 'positive'],
      ['nope.ps.test', 'A', 'negative'],
      ['www.ps.test', 'MX', 'negative'],
      ['deep.ps.test', 'A', 'negative'],
      ['ps.test', 'DNSKEY', 'positive'],
    ])('delv validates tandem\'s answer for %s %s with Knot\'s DS (%s)', async (name, type, want) => {
      const r = await delv({ host: s.host, port: s.port }, anchor, ['+root=ps.test', name, type]);
      expect(verdict(r.out), r.out).toBe(want);
    });

    it('the RRSIGs are Knot\'s (tandem signs nothing) and the API says presigned', async () => {
      const knotKeys = (await knot.keys()).map((k) => k.tag);
      const r = await dig({ host: s.host, port: s.port }, ['+dnssec', '+norec', 'www.ps.test', 'A']);
      const tags = r.answer.filter((a) => a.type === 'RRSIG').map((a) => Number(a.data.split(' ')[6]));
      expect(tags.length).toBeGreaterThan(0);
      for (const t of tags) expect(knotKeys).toContain(t);
      const v = s.server.manager.dnssec(s.server.manager.zoneByName(origin)!.id);
      expect(v.presigned).toBe(true);
      expect(v.ksk).toBeUndefined();
    });
  });
}

// B denies with NSEC made per answer, or from a chain (nsec3-chain), which each transfer into B patches.
for (const bDenial of ['nsec', 'nsec3-chain'] as const) {
describe(`Cloudflare-as-secondary, rehearsed: tandem A (primary, unsigned transfer) -> tandem B (multi-signer secondary, ${bDenial})`, () => {
  let a: TestServer;
  let b: TestServer;
  const origin = Name.fromText('ms2.test.');
  const dsOf = (s: TestServer) => [s.server.manager.dnssec(s.server.manager.zoneByName(origin)!.id).ds!.text];
  beforeAll(async () => {
    requireTool('knotd', 'knot');
    const bPort = await freePort();
    a = await startTestServer({
      zones: await zonesDir('ms2.test', `zone:
  soa: { mname: ns1.ms2.test., rname: hostmaster.ms2.test. }
  nameservers: [ns1.ms2.test., ns1.provider-b.example.]
  dnssec: { enabled: true, multi_signer: true, denial: nsec }
  transfer:
    allow: [{ address: 127.0.0.1 }]
    notify: ["127.0.0.1:${bPort}"]
    content: unsigned
records:
  ns1: { type: A, value: 192.0.2.1 }
  www: { type: A, value: 192.0.2.10 }
  '*.wild': { type: TXT, value: wildcard }
`),
    });
    b = await startTestServer({
      listen: [{ host: '127.0.0.1', port: bPort }],
      zones: await zonesDir('ms2.test', `zone:\n  secondary:\n    primaries: ["127.0.0.1:${a.port}"]\n    dnssec: multi-signer\n  dnssec: { denial: ${bDenial} }\n`),
    });
    await waitFor(() => b.server.manager.version(origin)?.available, 20_000, { what: 'B transfers from A' });
  }, 60_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('B\'s DNSKEY RRset holds A\'s ZSK from the transfer (and not A\'s KSK, which A did not send)', async () => {
    const aKeys = a.server.manager.dnssec(a.server.manager.zoneByName(origin)!.id);
    const bKeys = b.server.manager.dnssec(b.server.manager.zoneByName(origin)!.id);
    const aZsk = aKeys.keys.find((k) => k.flags === 256 && k.source === 'own')!;
    expect(bKeys.keys.filter((k) => k.source === 'external').map((k) => k.keyTag)).toEqual([aZsk.keyTag]);
    const r = await dig({ host: b.host, port: b.port }, ['+norec', 'ms2.test', 'DNSKEY']);
    expect(r.answer.some((x) => x.data.includes(aZsk.publicKey.slice(0, 20)))).toBe(true);
  });

  it('A imports B\'s ZSK through its API; B gets A\'s new version by NOTIFY + IXFR; answers of each validate with the other\'s DNSKEY RRset', async () => {
    const bZsk = b.server.manager.dnssec(b.server.manager.zoneByName(origin)!.id).keys.find((k) => k.flags === 256 && k.source === 'own')!;
    const zid = a.server.manager.zoneByName(origin)!.id;
    const res = await fetch(`${a.api}/client/v4/zones/${zid}/dns_records`, {
      method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'DNSKEY', name: 'ms2.test', data: { flags: 256, protocol: 3, algorithm: 13, public_key: bZsk.publicKey }, ttl: 3600 }),
    }).then((x) => x.json() as Promise<{ success: boolean }>);
    expect(res.success).toBe(true);
    const serial = a.server.manager.version(origin)!.serial;
    await waitFor(() => b.server.manager.version(origin)?.serial === serial || undefined, 15_000, { what: 'B at A\'s new serial' });
    if (bDenial === 'nsec3-chain') {
      // The transfer changed B's apex DNSKEY RRset only: B's chain was patched from the version before (no link
      // changes: the apex keeps its types), not built anew.
      const chain = b.server.manager.served().signing.get(origin.key)!.chain!;
      expect(chain.stats).toMatchObject({ full: false, made: 0 });
    }
    const ds = [...dsOf(a), ...dsOf(b)];
    const queries = [{ name: 'www.ms2.test', type: 'A' }, { name: 'nope.ms2.test', type: 'A' }, { name: 'x.wild.ms2.test', type: 'TXT' }, { name: 'ms2.test', type: 'SOA' }];
    const addr = (s: TestServer) => ({ host: s.host, port: s.port });
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const report = await validateAnswers({ zone: 'ms2.test', dnskeyFrom: addr(y), dataFrom: addr(x), ds, queries });
      expect(reportErrors(report)).toEqual([]);
      expect(report.ok).toBe(true);
    }
  });

  it('B refuses record changes (they come from A) and shows its state in the API', async () => {
    const zid = b.server.manager.zoneByName(origin)!.id;
    const post = await fetch(`${b.api}/client/v4/zones/${zid}/dns_records`, {
      method: 'POST', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'A', name: 'x.ms2.test', content: '192.0.2.9', ttl: 300 }),
    }).then((x) => x.json() as Promise<{ success: boolean; errors: { message: string }[] }>);
    expect(post.success).toBe(false);
    expect(post.errors[0].message).toMatch(/secondary zone/);
    const inc = await fetch(`${b.api}/client/v4/zones/${zid}/secondary_dns/incoming`, { headers: { authorization: `Bearer ${b.token}` } })
      .then((x) => x.json() as Promise<{ result: { soa_serial: number; peers: string[]; tandem: { state: string } } }>);
    expect(inc.result.soa_serial).toBe(a.server.manager.version(origin)!.serial);
    expect(inc.result.peers).toEqual([`127.0.0.1:${a.port}`]);
    expect(inc.result.tandem.state).toBe('serving');
  });

  it('the CLI shows both sides: `tandem transfer` on B (secondary) and on A (primary), `tandem status` on B', async () => {
    const onB = await tandem(['transfer', 'ms2.test', '--api', b.api, '--token', b.token]);
    expect(onB.code, onB.stderr).toBe(0);
    expect(onB.stdout).toContain(`ms2.test: secondary, serving, serial ${b.server.manager.version(origin)!.serial} (from 127.0.0.1:${a.port})`);
    expect(onB.stdout).toMatch(/dnssec: multi-signer/);
    const onA = await tandem(['transfer', 'ms2.test', '--api', a.api, '--token', a.token]);
    expect(onA.stdout).toMatch(/ms2\.test: primary, serial \d+; transfers to 127\.0\.0\.1 \(unsigned\)/);
    expect(onA.stdout).toContain(`NOTIFY: 127.0.0.1:${b.port}`);
    const refreshed = await tandem(['transfer', 'ms2.test', 'refresh', '--api', b.api, '--token', b.token]);
    expect(refreshed.stdout).toMatch(/last refresh/);
    const st = await tandem(['status', 'ms2.test', '--api', b.api, '--token', b.token]);
    expect(st.stdout).toMatch(/secondary, serving \d+/);
  });
});
}

describe('secondary zones across restarts and from the API', () => {
  let knot: KnotInstance;
  let s: TestServer;
  const origin = Name.fromText('rs.test.');
  afterAll(async () => {
    await s?.stop();
    await knot?.stop();
  });

  it('a restart serves the last copy at once, before any primary answers; dnssec_presigned can be set through the API', async () => {
    requireTool('knotd', 'knot');
    knot = await startKnot({ zone: 'rs.test', zoneText: ZONE_TEXT, denial: 'nsec' });
    s = await startTestServer({ zones: await zonesDir('rs.test', `zone:\n  secondary:\n    primaries: ["127.0.0.1:${knot.port}"]\n`) });
    await waitFor(() => s.server.manager.version(origin)?.available, 20_000, { what: 'first transfer' });
    // Unsigned mode (off): Knot's RRSIGs are not served.
    expect((await dig({ host: s.host, port: s.port }, ['+dnssec', '+norec', 'www.rs.test', 'A'])).answer.some((x) => x.type === 'RRSIG')).toBe(false);
    const zid = s.server.manager.zoneByName(origin)!.id;
    const patched = await fetch(`${s.api}/client/v4/zones/${zid}/dnssec`, {
      method: 'PATCH', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ dnssec_presigned: true }),
    }).then((x) => x.json() as Promise<{ success: boolean; result: { dnssec_presigned: boolean } }>);
    expect(patched.success).toBe(true);
    expect(patched.result.dnssec_presigned).toBe(true);
    expect(await readFile(join(s.zonesDir, 'rs.test.yaml'), 'utf8')).toMatch(/dnssec: presigned/);
    expect((await dig({ host: s.host, port: s.port }, ['+dnssec', '+norec', 'www.rs.test', 'A'])).answer.some((x) => x.type === 'RRSIG')).toBe(true);

    await knot.stop();
    const { startServer } = await import('../../src/server/server.js');
    const { defaults } = await import('../../src/config/server.js');
    const { pino } = await import('pino');
    const first = s;
    s = undefined as unknown as TestServer;
    await first.server.stop();
    const config = { ...defaults, zones: first.zonesDir, state: first.stateDir, listen: [{ host: '127.0.0.1', port: 0 }], api: { host: '127.0.0.1', port: 0 }, logLevel: 'silent' as const };
    const again = await startServer({ config, logger: pino({ level: 'silent' }), env: {} });
    try {
      // Answered from the copy at once: the primary is gone, no transfer can have happened.
      const r = await dig({ host: again.addresses[0].host, port: again.addresses[0].port }, ['+dnssec', '+norec', 'www.rs.test', 'A']);
      expect(r.status).toBe('NOERROR');
      expect(r.answer.some((x) => x.type === 'RRSIG')).toBe(true);
    } finally {
      await again.stop();
      await rm(first.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
