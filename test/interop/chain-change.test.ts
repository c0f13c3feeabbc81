// Admin changes to a zone with a precomputed chain (denial nsec3-chain / nsec-chain): the server patches the
// chain it serves (dnssec/chain.ts) instead of building it anew. Decided by real tools: ldns-verify-zone checks
// the served zone (a signed AXFR, which carries the served chain) and `tandem dump --signed` (a chain built
// whole from the file); both chains must be the same; delv validates the changed names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delv, digXfr, requireTool } from '../helpers/dig.js';
import { tandem } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { exampleZoneDir, withDenial } from '../helpers/zones.js';
import { delvAnchorFile, ldnsVerifyZone } from '../helpers/validate.js';
import { Name } from '../../src/dns/name.js';

async function api(s: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${s.api}/client/v4${path}`, {
    method, headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined,
  });
  return r.json();
}

/** Verdict of one delv run. */
const verdict = (out: string) => (/; negative response, fully validated/.test(out) ? 'negative' : /; fully validated/.test(out) ? 'positive' : 'failed');

for (const mode of ['nsec3-chain', 'nsec-chain'] as const) {
  const chainType = mode === 'nsec3-chain' ? 'NSEC3' : 'NSEC';
  describe(`${mode}: after an admin change the served chain is complete and equal to one built whole`, () => {
    let s: TestServer;
    let id: string;
    let ds: string;
    let anchor: string;
    beforeAll(async () => {
      for (const [tool, pkg] of [['ldns-verify-zone', 'ldnsutils'], ['delv', 'bind9-dnsutils']]) requireTool(tool, pkg);
      s = await startTestServer({
        zones: await exampleZoneDir((t) => withDenial(mode)(t).replace(/^zone:\n/m, 'zone:\n  transfer:\n    allow: [{ address: 127.0.0.1, content: signed }]\n')),
      });
      id = s.server.manager.zoneByName(Name.fromText('example.com.'))!.id;
      ds = s.server.manager.dnssec(id).ds!.text;
      anchor = join(s.dir, 'anchor.conf');
      await writeFile(anchor, delvAnchorFile([ds]));
      // One name added, one removed (mail: its A record), through the API.
      expect((await api(s, 'POST', `/zones/${id}/dns_records`, { type: 'A', name: 'added.example.com', content: '192.0.2.77', ttl: 300 })).success).toBe(true);
      const mail = (await api(s, 'GET', `/zones/${id}/dns_records?name=mail.example.com&type=A`)).result[0];
      expect((await api(s, 'DELETE', `/zones/${id}/dns_records/${mail.id}`)).success).toBe(true);
    }, 60_000);
    afterAll(() => s?.stop());

    it('the chain was patched, not built anew', () => {
      const chain = s.server.manager.served().signing.get(Name.fromText('example.com.').key)!.chain!;
      expect(chain.stats.full).toBe(false);
      expect(chain.stats.made).toBeLessThanOrEqual(2);
    });

    it(`ldns-verify-zone: the served zone (signed AXFR) is verified and complete, and its ${chainType} chain is the one \`tandem dump --signed\` builds whole`, async () => {
      const axfr = await digXfr({ host: s.host, port: s.port }, ['+nostats', 'example.com', 'AXFR']);
      const records = axfr.answer.slice(0, -1); // the closing SOA
      const v1 = await ldnsVerifyZone(records.map((r) => `${r.name} ${r.ttl} ${r.class} ${r.type} ${r.data}`).join('\n') + '\n', [ds]);
      expect(v1.output).toMatch(/Zone is verified and complete/);
      expect(v1.ok).toBe(true);

      const dump = await tandem(['dump', '--signed', 'example.com', '--zones', s.zonesDir, '--state', s.stateDir]);
      expect(dump.code, dump.stderr).toBe(0);
      const v2 = await ldnsVerifyZone(dump.stdout, [ds]);
      expect(v2.output).toMatch(/Zone is verified and complete/);
      expect(v2.ok).toBe(true);

      const links = (lines: string[]) => lines.map((l) => l.trim().split(/\s+/)).filter((f) => f[3] === chainType).map((f) => `${f[0].toLowerCase()} ${f.slice(4).join(' ').toUpperCase()}`).sort();
      const servedLinks = links(records.map((r) => `${r.name} ${r.ttl} ${r.class} ${r.type} ${r.data}`));
      expect(servedLinks.length).toBeGreaterThan(20);
      expect(servedLinks).toEqual(links(dump.stdout.split('\n')));
    });

    it.each([
      ['added.example.com', 'A', 'positive'],
      ['mail.example.com', 'A', 'negative'],
      ['x.added.example.com', 'A', 'negative'],
      ['nope.example.com', 'A', 'negative'],
      ['www.example.com', 'A', 'positive'],
    ])('delv validates %s %s (%s) after the change', async (name, type, want) => {
      const r = await delv({ host: s.host, port: s.port }, anchor, ['+root=example.com', name, type]);
      expect(verdict(r.out), r.out).toBe(want);
    });
  });
}
