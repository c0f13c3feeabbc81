// Admin API changes of a master-file zone, applied as deltas (issue 16; the file edited and read back range by
// range, state/masterrange.ts), against real tools: BIND's named-checkzone loads the written file and dumps the
// records tandem reads from it; a second tandem server started on the written file answers dig exactly as the
// changed one does; delv validates a changed name (RFC 4035 §5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMasterFile } from '../../src/config/masterfile.js';
import { Name } from '../../src/dns/name.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { typeName } from '../../src/dns/types.js';
import { delv, dig, type DigRecord } from '../helpers/dig.js';
import { runChecked } from '../helpers/procs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ZONE = 'c.test';
const origin = Name.fromText(`${ZONE}.`);

// Hand-written: $TTL changes, blank owners, parentheses with comments, an $ORIGIN below the zone.
const SOURCE = `; c.test, by hand
$TTL 1h
@ IN SOA ns1 hostmaster ( 2024010101 ; serial
      1d 2h 4w ; refresh retry expire
      300 )    ; minimum
  IN NS ns1
  MX 10 mail
ns1 300 IN A 192.0.2.53
    IN 300 AAAA 2001:db8::53
host A 192.0.2.70
    TXT "host text" ; kept
mail IN 600 A 192.0.2.25
$TTL 120
sip A 192.0.2.60
txt TXT ( "one"   ; first
          "two" ) ; second
$ORIGIN deep.c.test.
x 60 A 192.0.2.200
y A 192.0.2.201
`;

/** A file's records as sorted `owner ttl TYPE rdata` lines, read by tandem's parser. */
function records(text: string): string[] {
  return parseMasterFile('x.zone', text, { origin }).records.map((r) => `${r.name.key} ${r.ttl} ${typeName(r.type)} ${formatRdata(r.type, r.rdata)}`).sort();
}

describe('API changes of a master-file zone, as deltas: the file stays valid for BIND and serves what it says', () => {
  let dir: string;
  let changed: TestServer;
  let fresh: TestServer;
  let written: string;
  const settings = 'zone:\n  dnssec:\n    enabled: true\n    denial: nsec\n';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-mfc-interop-'));
    const zones = join(dir, 'zones');
    await mkdir(zones);
    await writeFile(join(zones, `${ZONE}.zone`), SOURCE);
    await writeFile(join(zones, `${ZONE}.yaml`), settings);
    changed = await startTestServer({ zones });
    const m = changed.server.manager;
    const s0 = { ...m.deltaStats };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${changed.api}/client/v4${path}`, { method, headers: { authorization: `Bearer ${changed.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await res.json()) as { success: boolean; result: { id: string }[] & { id: string }; errors: unknown };
      expect(json.success, `${method} ${path}: ${JSON.stringify(json.errors)}`).toBe(true);
      return json.result;
    };
    const zid = (await api('GET', `/zones?name=${ZONE}`))[0].id;
    const find = async (name: string, type: string) => (await api('GET', `/zones/${zid}/dns_records?name=${name}&type=${type}`))[0].id;
    await api('POST', `/zones/${zid}/dns_records`, { type: 'A', name: `new.${ZONE}`, content: '192.0.2.7', ttl: 300 });
    await api('PATCH', `/zones/${zid}/dns_records/${await find(`sip.${ZONE}`, 'A')}`, { content: '192.0.2.61' });
    await api('DELETE', `/zones/${zid}/dns_records/${await find(`ns1.${ZONE}`, 'AAAA')}`);
    await api('DELETE', `/zones/${zid}/dns_records/${await find(`host.${ZONE}`, 'A')}`); // the owner's first line: TXT keeps its owner
    await api('POST', `/zones/${zid}/dns_records`, { type: 'TXT', name: `y.deep.${ZONE}`, content: '"beside y"', ttl: 60 });
    await api('DELETE', `/zones/${zid}/dns_records/${await find(`mail.${ZONE}`, 'A')}`);
    // Every change went the delta path (a whole build counts nothing) and read back a few records, not the zone.
    expect(m.deltaStats.rrsets - s0.rrsets).toBe(3);
    expect(m.deltaStats.recordsParsed - s0.recordsParsed).toBeLessThan(40);
    written = await readFile(join(changed.zonesDir, `${ZONE}.zone`), 'utf8');
    const copy = join(dir, 'fresh');
    await mkdir(copy);
    await cp(join(changed.zonesDir, `${ZONE}.zone`), join(copy, `${ZONE}.zone`));
    await writeFile(join(copy, `${ZONE}.yaml`), settings);
    fresh = await startTestServer({ zones: copy });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([changed?.stop(), fresh?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('the file changed only where the changes are; comments and the rest byte for byte', () => {
    expect(written).toContain('; c.test, by hand\n$TTL 1h\n@ IN SOA ns1 hostmaster ( 2024010107 ; serial\n');
    expect(written).toContain('txt TXT ( "one"   ; first\n          "two" ) ; second\n');
    expect(written).toContain('\nhost    TXT "host text" ; kept\n'); // RFC 1035 §5.1: its owner was the removed line's
    expect(written).not.toContain('192.0.2.25');
    expect(records(written)).toContain('y.deep.c.test. 60 TXT "beside y"');
  });

  it('BIND: named-checkzone loads the written file, and its canonical dump holds the records tandem reads', async () => {
    const file = join(dir, 'written.zone');
    await writeFile(file, written);
    const dump = await runChecked('named-checkzone', ['-q', '-k', 'ignore', '-D', '-o', '-', ZONE, file]);
    expect(records(dump)).toEqual(records(written));
  });

  it('dig: the changed server answers every question as a server started on the written file', async () => {
    const view = (rrs: DigRecord[]) => rrs.filter((r) => r.type !== 'RRSIG' && r.type !== 'NSEC').map((r) => `${r.name} ${r.ttl} ${r.type} ${r.data}`).sort();
    const questions: [string, string][] = [
      [ZONE, 'SOA'], [ZONE, 'NS'], [ZONE, 'MX'], [`new.${ZONE}`, 'A'], [`sip.${ZONE}`, 'A'], [`ns1.${ZONE}`, 'A'], [`ns1.${ZONE}`, 'AAAA'],
      [`host.${ZONE}`, 'TXT'], [`host.${ZONE}`, 'A'], [`mail.${ZONE}`, 'A'], [`txt.${ZONE}`, 'TXT'], [`y.deep.${ZONE}`, 'TXT'], [`y.deep.${ZONE}`, 'A'], [`x.deep.${ZONE}`, 'A'],
    ];
    for (const [name, type] of questions) {
      const [a, b] = await Promise.all([changed, fresh].map((s) => dig({ host: s.host, port: s.port }, ['+norec', name, type])));
      expect(a.status, `${name} ${type}`).toBe(b.status);
      expect(view(a.answer), `${name} ${type}`).toEqual(view(b.answer));
      expect(view(a.authority), `${name} ${type}`).toEqual(view(b.authority));
    }
    const sip = await dig({ host: changed.host, port: changed.port }, ['+norec', `sip.${ZONE}`, 'A']);
    expect(sip.answer.map((r) => r.data)).toEqual(['192.0.2.61']);
  });

  it('RFC 4035 §5: delv validates a changed name and the denial of a removed one', async () => {
    const z = changed.server.manager.zoneByName(origin)!;
    const ds = changed.server.manager.dnssec(z.id).ds!;
    const [tag, alg, dt, hex] = ds.text.split(/\s+/).slice(4);
    const anchor = join(dir, 'anchor.conf');
    await writeFile(anchor, `trust-anchors { "${ZONE}." static-ds ${tag} ${alg} ${dt} "${hex}"; };\n`);
    const t = { host: changed.host, port: changed.port };
    const r = await delv(t, anchor, [`+root=${ZONE}`, `y.deep.${ZONE}`, 'TXT']);
    expect(r.validated, r.out).toBe(true);
    const none = await delv(t, anchor, [`+root=${ZONE}`, `mail.${ZONE}`, 'A']);
    expect(none.out).toMatch(/; negative response, fully validated/);
  });
});
