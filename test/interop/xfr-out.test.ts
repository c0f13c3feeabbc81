// tandem as a zone-transfer primary (issue 11), decided by real tools: dig and kdig as transfer clients,
// Knot as a secondary that takes the zone signed (hidden signer) and follows changes by NOTIFY + IXFR,
// and delv validating what Knot serves with tandem's DS as the only trust anchor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delv, dig as digQuery, digXfr, kdigXfr, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { exampleZoneDir, withDenial } from '../helpers/zones.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { Name } from '../../src/dns/name.js';
import { encodeQuery } from '../../src/dns/message.js';
import { RRType, Rcode } from '../../src/dns/types.js';
import { udpExchange } from '../helpers/client.js';

const dig = digXfr;
const kdig = kdigXfr;

const SECRET = 'tfE8Nr6N6X3m2b7lEwgd7VoUO7qRiK2YbkP2mF0wJ2U=';

/** Adds `lines` (already indented for `zone:`) right after the `zone:` line. */
const withZoneSettings = (lines: string) => (t: string) => t.replace(/^zone:\n/m, `zone:\n${lines}`);

async function api(s: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${s.api}/client/v4${path}`, {
    method, headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined,
  });
  return r.json();
}

const zoneId = (s: TestServer) => s.server.manager.zoneByName(Name.fromText('example.com.'))!.id;
const served = (s: TestServer) => s.server.manager.version(Name.fromText('example.com.'))!.serial;

async function anchorFor(s: TestServer): Promise<string> {
  const ds = s.server.manager.dnssec(zoneId(s)).ds!;
  const [tag, alg, dt, digest] = ds.text.split(/\s+/).slice(4);
  const file = join(s.dir, 'anchor.conf');
  await writeFile(file, `trust-anchors { "example.com." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
  return file;
}

describe('AXFR and IXFR out to dig and kdig (unsigned content)', () => {
  let s: TestServer;
  beforeAll(async () => {
    requireTool('kdig', 'knot-dnsutils');
    s = await startTestServer({
      zones: await exampleZoneDir(withZoneSettings('  transfer:\n    allow: [{ address: 127.0.0.1 }]\n    content: unsigned\n')),
    });
    await s.server.transfers.idle();
  });
  afterAll(() => s?.stop());

  it('RFC 5936 §2.2: AXFR starts and ends with the SOA; unsigned content carries the ZSK and the NS set, no RRSIG/NSEC/CDS, not the KSK', async () => {
    const r = await dig({ host: s.host, port: s.port }, ['+nostats', 'example.com', 'AXFR']);
    const types = r.answer.map((a) => a.type);
    expect(types[0]).toBe('SOA');
    expect(types[types.length - 1]).toBe('SOA');
    expect(types.filter((t) => t === 'SOA')).toHaveLength(2);
    for (const t of ['RRSIG', 'NSEC', 'NSEC3', 'CDS', 'CDNSKEY', 'NSEC3PARAM']) expect(types).not.toContain(t);
    const keys = r.answer.filter((a) => a.type === 'DNSKEY').map((a) => a.data.split(' ')[0]);
    expect(keys).toEqual(['256']);
    expect(r.answer.filter((a) => a.type === 'NS' && a.name === 'example.com.').map((a) => a.data).sort()).toEqual(['ns1.example.com.', 'ns2.example.com.']);
    expect(r.answer.some((a) => a.name === 'www.example.com.' && a.type === 'A')).toBe(true);
    // The SOA carries the serial the zone is served with.
    expect(Number(r.answer[0].data.split(' ')[2])).toBe(served(s));
  });

  it('kdig reads the same transfer', async () => {
    const r = await kdig({ host: s.host, port: s.port }, ['example.com', 'AXFR']);
    expect(r.answer.filter((a) => a.type === 'SOA')).toHaveLength(2);
    expect(r.answer.some((a) => a.type === 'DNSKEY')).toBe(true);
  });

  it('RFC 5936 §4.2: AXFR over UDP is not served (NOTIMP)', async () => {
    const r = await udpExchange(s.host, s.port, encodeQuery(Name.fromText('example.com.'), RRType.AXFR, { id: 7 }));
    expect(r).toBeDefined();
    expect(r![3] & 0xf).toBe(Rcode.NOTIMP);
    expect((r![6] << 8) | r![7]).toBe(0);
  });

  it('RFC 5936 §2.2.1: a zone we do not serve is NOTAUTH; an address not in zone.transfer.allow is REFUSED', async () => {
    const other = await dig({ host: s.host, port: s.port }, ['example.org', 'AXFR']);
    expect(other.raw).toMatch(/NOTAUTH|Transfer failed/);
    const refused = await dig({ host: s.host, port: s.port }, ['-b', '127.0.0.2', 'example.com', 'AXFR']);
    expect(refused.raw).toMatch(/REFUSED|Transfer failed/);
    expect(refused.answer).toHaveLength(0);
  });

  it('RFC 1995 §2: IXFR from the current serial (or over UDP) is the SOA alone', async () => {
    const cur = served(s);
    const r = await dig({ host: s.host, port: s.port }, ['example.com', `IXFR=${cur}`]);
    expect(r.answer.map((a) => a.type)).toEqual(['SOA']);
    const udp = await dig({ host: s.host, port: s.port }, ['+notcp', 'example.com', `IXFR=${cur - 5}`]);
    expect(udp.answer.map((a) => a.type)).toEqual(['SOA']);
  });

  it('RFC 1995 §4: an admin change is served as an incremental IXFR (old SOA, deletions, new SOA, additions); unknown history falls back to the whole zone', async () => {
    const before = served(s);
    const res = await api(s, 'POST', `/zones/${zoneId(s)}/dns_records`, { type: 'A', name: 'xfr-new.example.com', content: '192.0.2.77', ttl: 300 });
    expect(res.success).toBe(true);
    const after = served(s);
    expect(after).not.toBe(before);
    await s.server.transfers.idle();
    const r = await dig({ host: s.host, port: s.port }, ['example.com', `IXFR=${before}`]);
    const seq = r.answer.map((a) => `${a.type} ${a.type === 'SOA' ? a.data.split(' ')[2] : a.name}`);
    expect(seq).toEqual([`SOA ${after}`, `SOA ${before}`, `SOA ${after}`, 'A xfr-new.example.com.', `SOA ${after}`]);
    const old = await dig({ host: s.host, port: s.port }, ['example.com', `IXFR=${before - 1000}`]);
    expect(old.answer.filter((a) => a.type === 'SOA')).toHaveLength(2);
    expect(old.answer.some((a) => a.name === 'www.example.com.')).toBe(true);
  });
});

describe('include_ksk: the unsigned transfer also carries our KSK', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ zones: await exampleZoneDir(withZoneSettings('  transfer:\n    allow: [{ address: 127.0.0.0/8 }]\n    include_ksk: true\n')) });
  });
  afterAll(() => s?.stop());

  it('DNSKEY 256 and 257 are transferred', async () => {
    const r = await dig({ host: s.host, port: s.port }, ['example.com', 'AXFR']);
    expect(r.answer.filter((a) => a.type === 'DNSKEY').map((a) => a.data.split(' ')[0]).sort()).toEqual(['256', '257']);
  });
});

for (const mode of ['nsec', 'nsec3', 'nsec3-chain', 'nsec-chain'] as const) {
  describe(`tandem hidden signer -> Knot secondary, signed content (denial ${mode})`, () => {
    let s: TestServer;
    let knot: KnotXfr;
    let anchor: string;
    beforeAll(async () => {
      requireTool('knotd', 'knot');
      requireTool('delv', 'bind9-dnsutils');
      const knotPort = await freePort();
      // Knot's port is known before it starts, so tandem can be told where to send NOTIFY.
      // TSIG on both ways: Knot's transfers and tandem's NOTIFY are signed with xfr-key.
      s = await startTestServer({
        config: { tsig: [{ name: Name.fromText('xfr-key.'), algorithm: 'hmac-sha256', secret: new Uint8Array(Buffer.from(SECRET, 'base64')) }] },
        zones: await exampleZoneDir((t) => withZoneSettings(
          `  transfer:\n    allow: [{ key: xfr-key, content: signed }]\n    notify: [{ address: "127.0.0.1:${knotPort}", key: xfr-key }]\n`,
        )(withDenial(mode)(t))),
      });
      anchor = await anchorFor(s);
      knot = await startKnotXfr({
        keys: [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET }],
        zones: [{ domain: 'example.com', role: 'secondary', primary: { host: s.host, port: s.port, key: 'xfr-key' } }], port: knotPort,
      });
      await knot.waitSerial('example.com', served(s));
    }, 60_000);
    afterAll(async () => {
      await knot?.stop();
      await s?.stop();
    });

    it.each([
      ['www.example.com', 'A', 'positive'],
      ['alias.example.com', 'A', 'positive'],
      ['anything.wild.example.com', 'A', 'positive'],
      ['nope.example.com', 'A', 'negative'],
      ['www.example.com', 'MX', 'negative'],
      ['b.deep.example.com', 'A', 'negative'],
      ['insecure.example.com', 'DS', 'negative'],
      ['example.com', 'DNSKEY', 'positive'],
    ])('delv validates Knot\'s answer for %s %s (%s) with tandem\'s DS', async (name, type, want) => {
      const r = await delv({ host: knot.host, port: knot.port }, anchor, ['+root=example.com', name, type]);
      expect(r.out).toMatch(want === 'negative' ? /; negative response, fully validated/ : /; fully validated/);
    });

    if (mode.endsWith('-chain')) {
      it('the transfer carries the chain answers come from: the proof of an NXDOMAIN answer is in the AXFR, its RRSIG byte for byte (signed once, for both)', async () => {
        const chainType = mode === 'nsec-chain' ? 'NSEC' : 'NSEC3';
        const nx = await digQuery({ host: s.host, port: s.port }, ['+dnssec', '+norec', 'nope.example.com', 'A']);
        const proofSigs = nx.authority.filter((a) => a.type === 'RRSIG' && a.data.startsWith(`${chainType} `));
        expect(proofSigs.length).toBeGreaterThan(0);
        const axfr = await dig({ host: s.host, port: s.port }, ['-y', `hmac-sha256:xfr-key:${SECRET}`, 'example.com', 'AXFR']);
        const sigs = new Set(axfr.answer.filter((a) => a.type === 'RRSIG').map((a) => `${a.name} ${a.data}`));
        for (const p of proofSigs) expect(sigs.has(`${p.name} ${p.data}`), `${p.name} ${p.data}`).toBe(true);
      });
    }

    let pushedFrom = 0;
    it('RFC 1996: a change through tandem\'s API reaches Knot by NOTIFY and IXFR, and validates there', async () => {
      const before = served(s);
      pushedFrom = before;
      const res = await api(s, 'POST', `/zones/${zoneId(s)}/dns_records`, { type: 'TXT', name: 'pushed.example.com', content: 'via ixfr', ttl: 300 });
      expect(res.success).toBe(true);
      const after = served(s);
      expect(after).not.toBe(before);
      await knot.waitSerial('example.com', after, 20_000);
      expect(knot.logs()).toMatch(/IXFR, incoming/);
      const r = await delv({ host: knot.host, port: knot.port }, anchor, ['+root=example.com', 'pushed.example.com', 'TXT']);
      expect(r.out).toMatch(/; fully validated/);
      expect(r.out).toContain('via ixfr');
    });

    if (mode.endsWith('-chain')) {
      it('RFC 1995: the signed IXFR of that change carries only the chain links it touched (the new name\'s and its predecessor\'s), not a re-signed chain', async () => {
        const chainType = mode === 'nsec-chain' ? 'NSEC' : 'NSEC3';
        const r = await dig({ host: s.host, port: s.port }, ['-y', `hmac-sha256:xfr-key:${SECRET}`, 'example.com', `IXFR=${pushedFrom}`]);
        const links = r.answer.filter((a) => a.type === chainType);
        const linkSigs = r.answer.filter((a) => a.type === 'RRSIG' && a.data.startsWith(`${chainType} `));
        expect(links).toHaveLength(3); // the predecessor deleted and added again, the new link added
        expect(linkSigs).toHaveLength(3);
      });
    }
  });
}

describe('serials', () => {
  it('an unchanged zone keeps its serial across a restart; a changed file gets a newer one', async () => {
    const zones = await exampleZoneDir(withZoneSettings('  serial_policy: increment\n'));
    const s1 = await startTestServer({ zones });
    const first = served(s1);
    const state = s1.stateDir;
    // Restart on the same folders (the test server copies them: reuse its copies).
    await s1.server.stop();
    const { startServer } = await import('../../src/server/server.js');
    const { pino } = await import('pino');
    const { defaults } = await import('../../src/config/server.js');
    const cfg = { ...defaults, zones: s1.zonesDir, state, listen: [{ host: '127.0.0.1', port: 0 }], api: { host: '127.0.0.1', port: 0 }, logLevel: 'silent' as const };
    const s2 = await startServer({ config: cfg, logger: pino({ level: 'silent' }), env: {} });
    expect(s2.manager.version(Name.fromText('example.com.'))!.serial).toBe(first);
    await s2.stop();
    const file = join(s1.zonesDir, 'example.com.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('192.0.2.1, 192.0.2.2', '192.0.2.1, 192.0.2.3'));
    const s3 = await startServer({ config: cfg, logger: pino({ level: 'silent' }), env: {} });
    // serial_policy increment: one more than before; never back.
    expect(s3.manager.version(Name.fromText('example.com.'))!.serial).toBe((first + 1) >>> 0);
    await s3.stop();
    await rm(s1.dir, { recursive: true, force: true });
  });
});

describe('re-signing makes a new version of a zone transferred signed', () => {
  it('when the signature period turns, the serial moves, and the signed IXFR carries the new RRSIGs; within one period nothing moves', async () => {
    const T0 = 1_800_000_000;
    const clock = { t: T0, now() { return this.t; } };
    const s = await startTestServer({
      clock,
      zones: await exampleZoneDir((t) => withZoneSettings('  serial_policy: increment\n  transfer:\n    allow: [{ address: 127.0.0.1, content: signed }]\n')(withDenial('nsec')(t))),
    });
    try {
      const id = zoneId(s);
      const before = served(s);
      await s.server.manager.resign(id);
      expect(served(s)).toBe(before); // same period: nothing to re-sign
      await s.server.transfers.idle();
      const inception = async () => {
        const r = await dig({ host: s.host, port: s.port }, ['example.com', 'AXFR']);
        return new Set(r.answer.filter((a) => a.type === 'RRSIG').map((a) => a.data.split(' ')[5]));
      };
      const first = await inception();
      clock.t += 4 * 86400; // past the 3.5-day period of a 14-day validity
      await s.server.manager.resign(id);
      const after = served(s);
      expect(after).toBe((before + 1) >>> 0);
      await s.server.transfers.idle();
      const second = await inception();
      expect([...second].some((x) => !first.has(x))).toBe(true);
      const ixfr = await dig({ host: s.host, port: s.port }, ['example.com', `IXFR=${before}`]);
      const soas = ixfr.answer.filter((a) => a.type === 'SOA').map((a) => Number(a.data.split(' ')[2]));
      expect(soas).toEqual([after, before, after, after]);
      expect(ixfr.answer.filter((a) => a.type === 'RRSIG').length).toBeGreaterThan(10);
    } finally {
      await s.stop();
    }
  });
});
