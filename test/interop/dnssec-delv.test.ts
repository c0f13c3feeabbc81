// Live signing decided by a real validator: delv (BIND 9.18) with the zone's DS as its only trust anchor,
// for every kind of answer and each denial mode. A corrupted signature and a wrong anchor must fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delv, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { exampleZoneDir, withDenial } from '../helpers/zones.js';
import { startTamperProxy } from '../helpers/tamper.js';
import { Name } from '../../src/dns/name.js';
import type { DenialMode } from '../../src/zone/types.js';

/** Each query and what delv must say: a validated answer, or a validated negative response. */
const cases: [string, string, Verdict | 'wildcard'][] = [
  ['www.example.com', 'A', 'positive'],
  ['alias.example.com', 'A', 'positive'],            // CNAME chain
  ['anything.wild.example.com', 'A', 'wildcard'],    // wildcard
  ['a.b.wild.example.com', 'TXT', 'wildcard'],       // wildcard, two labels deep
  ['nope.example.com', 'A', 'negative'],             // NXDOMAIN
  ['www.example.com', 'MX', 'negative'],             // NODATA
  ['b.deep.example.com', 'A', 'negative'],           // empty non-terminal
  ['x.wild.example.com', 'MX', 'negative'],          // wildcard NODATA
  ['sub.example.com', 'DS', 'positive'],             // secure delegation: signed DS
  ['insecure.example.com', 'DS', 'negative'],        // insecure delegation: proven absence of DS
  ['example.com', 'DNSKEY', 'positive'],
  ['example.com', 'CDS', 'positive'],
  ['example.com', 'CDNSKEY', 'positive'],
  ['example.com', 'SOA', 'positive'],
  ['_sip._tcp.example.com', 'SRV', 'positive'],
];

type Verdict = 'positive' | 'negative' | 'insecure' | 'failed';

function verdict(out: string): Verdict {
  if (/; negative response, fully validated/.test(out)) return 'negative';
  if (/; fully validated/.test(out)) return 'positive';
  if (/; unsigned answer/.test(out)) return 'insecure';
  return 'failed';
}

// Every denial mode; nsec3-chain also with opt-out, where a wildcard answer is insecure (RFC 5155 §9.2: an
// Opt-Out NSEC3 covering the next closer name cannot prove that no closer name exists).
const modes: { label: string; mode: DenialMode; optOut?: boolean }[] = [
  { label: 'compact', mode: 'compact' }, { label: 'nsec', mode: 'nsec' }, { label: 'nsec3', mode: 'nsec3' },
  { label: 'nsec3-chain', mode: 'nsec3-chain' }, { label: 'nsec-chain', mode: 'nsec-chain' },
  { label: 'nsec3-chain, opt-out', mode: 'nsec3-chain', optOut: true },
];

for (const { label, mode, optOut } of modes) {
  describe(`delv validates every answer (${label} denial)`, () => {
    let s: TestServer;
    let anchor: string;
    beforeAll(async () => {
      requireTool('delv', 'bind9-dnsutils');
      s = await startTestServer({ zones: await exampleZoneDir(withDenial(mode, { optOut })) });
      const z = s.server.manager.zoneByName(Name.fromText('example.com.'))!;
      const ds = s.server.manager.dnssec(z.id).ds!;
      const [tag, alg, dt, digest] = ds.text.split(/\s+/).slice(4);
      anchor = join(s.dir, 'anchor.conf');
      await writeFile(anchor, `trust-anchors { "example.com." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
    });
    afterAll(() => s?.stop());

    it.each(cases)(`%s %s is validated (%s)`, async (name, type, want) => {
      const r = await delv({ host: s.host, port: s.port }, anchor, ['+root=example.com', name, type]);
      expect(verdict(r.out), r.out).toBe(want === 'wildcard' ? (optOut ? 'insecure' : 'positive') : want);
    });

    it('negative control: a wrong trust anchor fails validation', async () => {
      const bad = join(s.dir, 'bad-anchor.conf');
      await writeFile(bad, `trust-anchors { "example.com." static-ds 12345 13 2 "${'AB'.repeat(32)}"; };\n`);
      const r = await delv({ host: s.host, port: s.port }, bad, ['+root=example.com', 'www.example.com', 'A']);
      expect(verdict(r.out)).toBe('failed');
    });

    it('negative control: a flipped bit in the RRSIGs fails validation', async () => {
      const proxy = await startTamperProxy({ host: s.host, port: s.port });
      try {
        for (const [name, type] of [['www.example.com', 'A'], ['nope.example.com', 'A']]) {
          const r = await delv({ host: '127.0.0.1', port: proxy.port }, anchor, ['+root=example.com', '+notcp', name, type]);
          expect(verdict(r.out), r.out).toBe('failed');
        }
      } finally {
        await proxy.close();
      }
    });
  });
}
