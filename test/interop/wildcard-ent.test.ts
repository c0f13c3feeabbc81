// A wildcard that is an empty non-terminal (only `x.*.went` has data): a query the wildcard matches is NODATA
// (RFC 4592 §2.2.2: the wildcard exists, with no types), proven in every denial mode so that delv validates it.
// In an NSEC chain the wildcard owns no NSEC: the NSEC before it, whose next name lies below it, proves it is an
// empty non-terminal (RFC 4035 §3.1.3.4 with §5.4's empty non-terminal rule).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delv, delvVerdict, dig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Name } from '../../src/dns/name.js';
import type { DenialMode } from '../../src/zone/types.js';

const modes: DenialMode[] = ['nsec-chain', 'nsec3-chain', 'nsec', 'nsec3', 'compact'];

for (const mode of modes) {
  describe(`wildcard empty non-terminal (${mode})`, () => {
    let s: TestServer, zones: string, anchor: string;
    beforeAll(async () => {
      requireTool('delv', 'bind9-dnsutils');
      zones = await mkdtemp(join(tmpdir(), 'tandem-went-'));
      await writeFile(join(zones, 'went.test.yaml'), `zone:
  soa: { mname: ns1.went.test., rname: hostmaster.went.test. }
  nameservers: [ns1.went.test.]
  dnssec: { enabled: true, denial: ${mode} }
records:
  ns1: { type: A, value: 127.0.0.1 }
  x.*.w: { type: TXT, value: below the wildcard }
  a: { type: A, value: 192.0.2.1 }
  z: { type: A, value: 192.0.2.2 }
`);
      s = await startTestServer({ zones });
      const z = s.server.manager.zoneByName(Name.fromText('went.test.'))!;
      const [tag, alg, dt, digest] = s.server.manager.dnssec(z.id).ds!.text.split(/\s+/).slice(4);
      anchor = join(s.dir, 'anchor.conf');
      await writeFile(anchor, `trust-anchors { "went.test." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
    });
    afterAll(async () => {
      await s?.stop();
      await rm(zones, { recursive: true, force: true });
    });

    it('q.w (matched by the empty wildcard *.w): NODATA, validated by delv; the data below the wildcard validates too', async () => {
      const r = await dig({ host: s.host, port: s.port }, ['+dnssec', 'q.w.went.test', 'A']);
      expect(r.status).toBe('NOERROR');
      expect(r.answer.filter((a) => a.type === 'A')).toHaveLength(0);
      const v = await delv({ host: s.host, port: s.port }, anchor, ['+root=went.test', 'q.w.went.test', 'A']);
      expect(delvVerdict(v.out), v.out).toBe('negative');
      const pos = await delv({ host: s.host, port: s.port }, anchor, ['+root=went.test', 'x.*.w.went.test', 'TXT']);
      expect(delvVerdict(pos.out), pos.out).toBe('positive');
    });
  });
}
