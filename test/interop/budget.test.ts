// The signing budget as real clients see it (issue 15): with `signing-queue: 0` no fresh signature is made for a UDP
// query, so dig and kdig get TC=1 for a fresh name while names whose signatures are cached are answered in full;
// over TCP the same fresh name gets its signed denial, and delv (which retries over TCP after TC, RFC 7766 §5)
// validates it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delv, dig, kdig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Name } from '../../src/dns/name.js';

let s: TestServer;
let anchor: string;
const t = () => ({ host: s.host, port: s.port });

beforeAll(async () => {
  for (const [tool, pkg] of [['dig', 'bind9-dnsutils'], ['kdig', 'knot-dnsutils'], ['delv', 'bind9-dnsutils']]) requireTool(tool, pkg);
  s = await startTestServer({ config: { signingQueue: 0, signingOverflow: 'tc' } });
  const z = s.server.manager.zoneByName(Name.fromText('example.com.'))!;
  const [tag, alg, dt, digest] = s.server.manager.dnssec(z.id).ds!.text.split(/\s+/).slice(4);
  anchor = join(s.dir, 'anchor.conf');
  await writeFile(anchor, `trust-anchors { "example.com." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
});
afterAll(() => s?.stop());

describe('signing-queue: 0 (every fresh signature over UDP is over budget)', () => {
  it('RFC 1035 §4.2.1: dig +notcp gets TC=1 and no records for a fresh name', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', '+notcp', '+ignore', 'fresh-a.example.com', 'A']);
    expect(r.flags).toContain('tc');
    expect([r.answer.length, r.authority.length]).toEqual([0, 0]);
  });

  it('kdig over UDP sees TC=1 too', async () => {
    const r = await kdig(t(), ['+norec', '+dnssec', '+notcp', '+ignore', 'fresh-b.example.com', 'A']);
    expect(r.flags).toContain('tc');
  });

  it('an existing name, signed at load, is answered in full over UDP', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', '+notcp', '+ignore', 'www.example.com', 'A']);
    expect(r.flags).not.toContain('tc');
    expect(r.answer.map((x) => x.type).sort()).toEqual(['A', 'RRSIG']);
  });

  it('dig +tcp gets the signed denial of the fresh name (RFC 9824 §3.1)', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', '+tcp', 'fresh-c.example.com', 'A']);
    expect(r.flags).not.toContain('tc');
    expect(r.authority.filter((x) => x.type === 'NSEC').map((x) => x.name)).toEqual(['fresh-c.example.com.']);
    expect(r.authority.filter((x) => x.type === 'RRSIG').map((x) => x.data.split(' ')[0]).sort()).toEqual(['NSEC', 'SOA']);
  });

  it('delv validates the fresh name\'s denial, over TCP and after a TC=1 over UDP', async () => {
    for (const extra of [['+tcp'], []]) {
      const r = await delv(t(), anchor, ['+root=example.com', ...extra, 'fresh-d.example.com', 'A']);
      expect(r.out).toMatch(/negative response, fully validated|resolution failed: ncache nxdomain/);
      expect(r.out).not.toMatch(/resolution failed: (?!ncache)/);
    }
  });

  it('the refusals are counted in /metrics', async () => {
    const res = await fetch(`${s.api}/metrics`);
    const text = await res.text();
    const m = /tandem_signing_budget_refused_total\{action="truncated"\} (\d+)/.exec(text);
    expect(m, text.slice(0, 400)).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(2);
  });
});
