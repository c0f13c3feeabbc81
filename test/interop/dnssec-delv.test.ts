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

/** Each query and what delv must say: a validated answer, or a validated negative response. */
const cases: [string, string, 'positive' | 'negative'][] = [
  ['www.example.com', 'A', 'positive'],
  ['alias.example.com', 'A', 'positive'],            // CNAME chain
  ['anything.wild.example.com', 'A', 'positive'],    // wildcard
  ['a.b.wild.example.com', 'TXT', 'positive'],       // wildcard, two labels deep
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

function verdict(out: string): 'positive' | 'negative' | 'failed' {
  if (/; negative response, fully validated/.test(out)) return 'negative';
  if (/; fully validated/.test(out)) return 'positive';
  return 'failed';
}

for (const mode of ['compact', 'nsec', 'nsec3'] as const) {
  describe(`delv validates every answer (${mode} denial)`, () => {
    let s: TestServer;
    let anchor: string;
    beforeAll(async () => {
      requireTool('delv', 'bind9-dnsutils');
      s = await startTestServer({ zones: await exampleZoneDir(withDenial(mode)) });
      const z = s.server.manager.zoneByName(Name.fromText('example.com.'))!;
      const ds = s.server.manager.dnssec(z.id).ds!;
      const [tag, alg, dt, digest] = ds.text.split(/\s+/).slice(4);
      anchor = join(s.dir, 'anchor.conf');
      await writeFile(anchor, `trust-anchors { "example.com." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
    });
    afterAll(() => s?.stop());

    it.each(cases)(`%s %s is validated (%s)`, async (name, type, want) => {
      const r = await delv({ host: s.host, port: s.port }, anchor, ['+root=example.com', name, type]);
      expect(verdict(r.out), r.out).toBe(want);
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
