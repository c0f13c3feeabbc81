// Which names `tandem check` asks: one of each kind of answer, picked from the zone's names (AXFR or NSEC walk),
// and the operator's `--name` values; and how `--ns` addresses are read.
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import type { Rr } from '../../../src/dns/rr.js';
import { typeFromName, typeName } from '../../../src/dns/types.js';
import { parseNameArg, pickNames, PROBE_LABEL, zoneNames } from '../../../src/lab/names.js';
import { parseServerArg } from '../../../src/cli/check.js';

const zone = Name.fromText('example.com.');

function records(text: string): Rr[] {
  return text.trim().split('\n').map((l) => {
    const [owner, type, ...rd] = l.trim().split(/\s+/);
    const t = typeFromName(type)!;
    return { name: Name.fromText(owner, zone), type: t, class: 1, ttl: 300, rdata: parseRdata(t, rd.join(' '), zone) };
  });
}

const ZONE = records(`
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.1
www AAAA 2001:db8::1
alias CNAME www
*.wild A 192.0.2.80
a.b.deep TXT deep
sub NS ns1.sub
sub DS 12345 13 2 85689FEAA6F14CAE5237B0318403E6BE6708C8C75A329240F8E0DCAD745ED6C9
ns1.sub A 192.0.2.54
insecure NS ns.example.net.
`);

describe('pickNames: one name per kind of answer', () => {
  const picked = pickNames(zone, zoneNames(ZONE), 'AXFR').map((q) => `${q.name} ${typeName(q.type)} ${q.why}`);

  it('positive, NODATA, CNAME, wildcard, wildcard NODATA, empty non-terminal, NXDOMAIN, both kinds of referral and their DS', () => {
    expect(picked).toEqual([
      'a.b.deep.example.com. TXT positive (AXFR)',
      'a.b.deep.example.com. MX NODATA (AXFR)',
      'alias.example.com. A CNAME (AXFR)',
      `${PROBE_LABEL}.wild.example.com. A wildcard (AXFR)`,
      `${PROBE_LABEL}.wild.example.com. TXT wildcard NODATA (AXFR)`,
      'b.deep.example.com. A empty non-terminal NODATA (AXFR)',
      `${PROBE_LABEL}.example.com. A NXDOMAIN (AXFR)`,
      'www.sub.example.com. A referral, secure (AXFR)',
      'sub.example.com. DS DS at a delegation (AXFR)',
      'www.insecure.example.com. A referral, insecure (AXFR)',
      'insecure.example.com. DS no DS at a delegation (AXFR)',
    ]);
  });

  it('glue below a cut is never asked as zone data', () => {
    expect(picked.some((p) => p.startsWith('ns1.sub.'))).toBe(false);
  });

  it('with a wildcard at the apex, the name error is sought under a name without one (RFC 4592)', () => {
    const withApexWildcard = [...ZONE, ...records('* A 192.0.2.99')];
    const nx = pickNames(zone, zoneNames(withApexWildcard), 'AXFR').find((q) => q.why.startsWith('NXDOMAIN'))!;
    expect(nx.name.toString()).toBe(`${PROBE_LABEL}.a.b.deep.example.com.`);
  });
});

describe('--name', () => {
  it.each([
    ['www.example.com. AAAA', 'www.example.com.', 'AAAA'],
    ['www.example.com MX', 'www.example.com.', 'MX'],
    ['www/TXT', 'www.example.com.', 'TXT'],
    ['deep', 'deep.example.com.', 'A'],
  ])('%j is %s %s', (text, name, type) => {
    const q = parseNameArg(text, zone);
    expect([q.name.toString(), typeName(q.type)]).toEqual([name, type]);
  });

  it('a name outside the zone or an unknown type is refused', () => {
    expect(() => parseNameArg('www.example.org. A', zone)).toThrow(/is not in the zone example\.com\./);
    expect(() => parseNameArg('www BOGUS', zone)).toThrow(/unknown type 'BOGUS'/);
  });
});

describe('--ns HOST[:PORT]', () => {
  it.each([
    ['127.0.0.1:5300', '127.0.0.1', 5300],
    ['127.0.0.1', '127.0.0.1', 53],
    ['[::1]:5300', '::1', 5300],
    ['::1', '::1', 53],
    ['ns1.example.net', 'ns1.example.net', 53],
  ])('%s', (text, host, port) => {
    expect(parseServerArg(text)).toEqual({ host, port });
  });

  it('a bad port is refused', () => {
    expect(() => parseServerArg('127.0.0.1:x')).toThrow(/bad port/);
    expect(() => parseServerArg('127.0.0.1:70000')).toThrow(/bad address/);
  });
});

