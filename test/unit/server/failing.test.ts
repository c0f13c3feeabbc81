// Zones we are authoritative for but cannot serve (a zone still loading at start-up, a secondary without data)
// are answered SERVFAIL (RFC 1034 §4.3.5: never stale or foreign data as authoritative), looked up by walking
// the query name's labels, so thousands of zones still loading cost a query a few map look-ups.
import { describe, expect, it } from 'vitest';
import { answer } from '../../../src/server/handle.js';
import { parseQuery } from '../../../src/dns/query.js';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { Rcode, RRType } from '../../../src/dns/types.js';
import { buildLoadedZone, parseZoneFile } from '../../../src/config/zonefile.js';
import { ZoneSet } from '../../../src/zone/zoneset.js';
import type { Served } from '../../../src/state/manager.js';

const zone = (origin: string) => buildLoadedZone(parseZoneFile(`${origin}.yaml`, `zone:
  soa: { mname: ns1.${origin}., rname: h.${origin}., serial: 1 }
  nameservers: [ns1.${origin}.]
records:
  ns1: { type: A, value: 192.0.2.53 }
  www: { type: A, value: 192.0.2.1 }
`));

const served = (zones: string[], failing: string[]): Served => ({
  zones: new ZoneSet(zones.map(zone)), signing: new Map(),
  failing: new Map(failing.map((f) => { const n = Name.fromText(`${f}.`); return [n.key, n]; })),
});

async function rcode(s: Served, qname: string): Promise<number> {
  const q = parseQuery(encodeQuery(Name.fromText(qname), RRType.A));
  if (!q.ok) throw new Error('query did not parse');
  return (await answer(q.query, s)).rcode;
}

describe('failing zones (SERVFAIL)', () => {
  it('RFC 1034 §4.3.5: a name in a failing zone, not served otherwise: SERVFAIL; a name in no zone of ours: REFUSED', async () => {
    const s = served(['a.test'], ['b.test']);
    expect(await rcode(s, 'www.b.test.')).toBe(Rcode.SERVFAIL);
    expect(await rcode(s, 'b.test.')).toBe(Rcode.SERVFAIL);
    expect(await rcode(s, 'www.a.test.')).toBe(Rcode.NOERROR);
    expect(await rcode(s, 'www.c.test.')).toBe(Rcode.REFUSED);
  });

  it('a failing child below a served parent wins for its names; a failing parent above a served child does not', async () => {
    const child = served(['test'], ['sub.test']);
    expect(await rcode(child, 'www.sub.test.')).toBe(Rcode.SERVFAIL);
    expect(await rcode(child, 'www.test.')).toBe(Rcode.NOERROR);
    expect(await rcode(child, 'nope.test.')).toBe(Rcode.NXDOMAIN);
    const parent = served(['sub.test'], ['test']);
    expect(await rcode(parent, 'www.sub.test.')).toBe(Rcode.NOERROR);
    expect(await rcode(parent, 'www.test.')).toBe(Rcode.SERVFAIL);
  });

  it('a failing root zone covers every name no served zone holds', async () => {
    const s: Served = { ...served(['a.test'], []), failing: new Map([[Name.ROOT.key, Name.ROOT]]) };
    expect(await rcode(s, 'www.c.test.')).toBe(Rcode.SERVFAIL);
    expect(await rcode(s, 'www.a.test.')).toBe(Rcode.NOERROR);
  });
});
