// Master-file admin changes range by range (state/masterrange.ts, issue 16): the same file as the whole-file
// editor (masteredit.ts) writes, read from the changed owners' lines and the SOA's only, and a refusal
// (MasterRangeUnfit: the caller edits the whole file) wherever those lines cannot vouch for the zone.
import { describe, expect, it } from 'vitest';
import { editMasterRanges, MasterRangeUnfit, type OwnerRecords } from '../../../src/state/masterrange.js';
import { applyMasterEdits } from '../../../src/state/masteredit.js';
import { parseMasterFile } from '../../../src/config/masterfile.js';
import { ZoneFileError } from '../../../src/config/errors.js';
import { Name } from '../../../src/dns/name.js';
import { formatRdata, parseRdata } from '../../../src/dns/rdata.js';
import { RRType, typeName } from '../../../src/dns/types.js';
import type { ZoneEdit } from '../../../src/state/yamledit.js';
import { rng } from '../../helpers/random.js';

const ORIGIN = 'm.test.';
const origin = Name.fromText(ORIGIN);
const FILE = '/z/m.test.zone';

const rrset = (owner: string, type: keyof typeof RRType, ttl: number, ...values: string[]): ZoneEdit => ({
  op: 'rrset', owner: Name.fromText(owner, origin).toString(), type: RRType[type], ttl, rdatas: values.map((v) => parseRdata(RRType[type], v, origin)),
});

/** The records of `text` at the owners the edits change, as the served zone has them (the file as last read). */
function servedAt(text: string, edits: ZoneEdit[]): OwnerRecords[] {
  const records = parseMasterFile(FILE, text, { origin }).records;
  const owners = new Set(edits.flatMap((e) => (e.op === 'rrset' ? [Name.fromText(e.owner).toString()] : [])));
  return [...owners].map((owner) => ({
    owner, records: records.filter((r) => r.name.toString() === owner && r.type !== RRType.SOA).map((r) => ({ type: r.type, ttl: r.ttl, rdata: r.rdata })),
  }));
}

/** The zone's records as text lines, sorted. */
function served(text: string): string[] {
  return parseMasterFile(FILE, text, { origin }).records.map((r) => `${r.name} ${r.ttl} ${typeName(r.type)} ${formatRdata(r.type, r.rdata)}`).sort();
}

/** A zone of `n` names, one A record each, after a $TTL and the SOA. */
function bigZone(n: number): string {
  const lines = ['$ORIGIN m.test.', '$TTL 3600', '@ IN SOA ns1 hostmaster ( 7 ; serial', '        1d 2h 1000h 300 )', '  NS ns1', 'ns1 A 192.0.2.53'];
  for (let i = 0; i < n; i++) lines.push(`h${i} 300 IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return lines.join('\n') + '\n';
}

describe('a change reads the changed owners\' lines and the SOA\'s, not the file (issue 16)', () => {
  it('writes what the whole-file editor writes, reading a handful of records of 20,000', () => {
    const text = bigZone(20_000);
    const edits = [rrset('h12345', 'A', 60, '192.0.2.7'), rrset('h12345', 'TXT', 60, '"new"'), rrset('brand-new', 'AAAA', 300, '2001:db8::1'), { op: 'serial' } as ZoneEdit];
    const out = editMasterRanges(FILE, text, ORIGIN, edits, servedAt(text, edits));
    expect(out.text).toBe(applyMasterEdits(FILE, text, ORIGIN, edits).text);
    // The SOA's lines (and those before it), h12345 and the record after it: before and after the edit.
    expect(out.parsed).toBeLessThan(20);
    expect(out.records[0].type).toBe(RRType.SOA);
    expect(out.records.map((r) => `${r.name.relativeTo(origin)} ${typeName(r.type)}`)).toEqual(expect.arrayContaining(['h12345 A', 'h12345 TXT', 'brand-new AAAA', 'h12346 A']));
    expect(out.text).toContain('@ IN SOA ns1 hostmaster ( 8 ; serial');
  });

  it('a line that does not read, far from the change, is not read (the whole way would refuse it)', () => {
    const text = bigZone(2_000) + 'broken-line 300 IN A 192.0.2.300\n';
    expect(() => parseMasterFile(FILE, text, { origin })).toThrow(ZoneFileError);
    const edits = [rrset('h10', 'A', 60, '192.0.2.7'), { op: 'serial' } as ZoneEdit];
    const out = editMasterRanges(FILE, text, ORIGIN, edits, servedAt(bigZone(2_000), edits));
    expect(out.text).toContain('\nh10\t60\tIN\tA\t192.0.2.7\n');
    expect(out.parsed).toBeLessThan(20);
  });

  it('RFC 1035 §5.1: a blank owner after a removed RRset is written out; the owner\'s other lines keep their meaning', () => {
    const text = `$ORIGIN m.test.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n  NS ns1\nwww A 192.0.2.1\n    A 192.0.2.2 ; two\n    TXT "kept"\nmail MX 10 mx\n`;
    const edits = [rrset('www', 'A', 60), { op: 'serial' } as ZoneEdit];
    const out = editMasterRanges(FILE, text, ORIGIN, edits, servedAt(text, edits));
    expect(out.text).toBe(applyMasterEdits(FILE, text, ORIGIN, edits).text);
    expect(out.text).toContain('\nwww    TXT "kept"\n');
  });

  it('owners under another $ORIGIN, and records in a multi-line parenthesised RDATA (RFC 1035 §5.1)', () => {
    const text = `$ORIGIN m.test.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n  NS ns1\n$ORIGIN sub.m.test.\nwww A 192.0.2.1\nt TXT ( "a"\n  "b" )\n$ORIGIN m.test.\nwww A 192.0.2.9\n`;
    const edits = [rrset('www.sub', 'A', 60, '192.0.2.5'), rrset('t.sub', 'TXT', 60, '"c"'), { op: 'serial' } as ZoneEdit];
    const out = editMasterRanges(FILE, text, ORIGIN, edits, servedAt(text, edits));
    expect(out.text).toBe(applyMasterEdits(FILE, text, ORIGIN, edits).text);
    expect(served(out.text)).toContain('www.m.test. 300 A 192.0.2.9');
  });
});

describe('what the ranges cannot vouch for is refused (the caller edits the whole file)', () => {
  const refuses = (text: string, edits: ZoneEdit[], before = servedAt(text, edits)) =>
    expect(() => editMasterRanges(FILE, text, ORIGIN, [...edits, { op: 'serial' }], before)).toThrow(MasterRangeUnfit);

  it('$INCLUDE (a record may be in the included file)', () => {
    expect(() => editMasterRanges(FILE, `$ORIGIN m.test.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n$INCLUDE hosts.inc\n`, ORIGIN, [rrset('a', 'A', 60, '192.0.2.1')], [{ owner: 'a.m.test.', records: [] }])).toThrow(MasterRangeUnfit);
  });

  it('an owner the search does not find: written as @ under its own $ORIGIN, or with escapes', () => {
    const text = `$ORIGIN m.test.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n  NS ns1\n$ORIGIN www.m.test.\n@ A 192.0.2.1\n$ORIGIN m.test.\n\\119ww2 A 192.0.2.2\n`;
    refuses(text, [rrset('www', 'TXT', 60, '"x"')]);
    refuses(text, [rrset('www2', 'A', 60, '192.0.2.3')]);
  });

  it('lines that do not hold the records served (the file is not what was loaded)', () => {
    const text = bigZone(100);
    const edits = [rrset('h5', 'A', 60, '192.0.2.7')];
    refuses(text, edits, [{ owner: 'h5.m.test.', records: [] }]);
    refuses(text, [rrset('h5', 'A', 60, '192.0.2.7')], [{ owner: 'h5.m.test.', records: [{ type: RRType.A, ttl: 300, rdata: parseRdata(RRType.A, '192.0.2.106', origin) }] }]);
  });

  it('no $TTL: a record after the range that inherits the last TTL written is read with its range (RFC 1035 §5.1)', () => {
    const text = `$ORIGIN m.test.\n@ 300 SOA ns1 h 1 2 3 4 5\n  300 NS ns1\nwww 60 A 192.0.2.1\nmail MX 10 mx\n`;
    const edits = [rrset('www', 'A', 120, '192.0.2.1'), { op: 'serial' } as ZoneEdit];
    const out = editMasterRanges(FILE, text, ORIGIN, edits, servedAt(text, edits));
    expect(out.text).toBe(applyMasterEdits(FILE, text, ORIGIN, edits).text);
    expect(served(out.text)).toContain('mail.m.test. 60 MX 10 mx.m.test.');
    // No TTL before the SOA: its MINIMUM is the default TTL (as BIND does), which the $ lines do not say. Read
    // alone, \`mail\` would seem to inherit www's 60 and get it written out; refused instead.
    const minimum = `$ORIGIN m.test.\n@ SOA ns1 h 1 2 3 4 300\n  NS ns1\nwww 60 A 192.0.2.1\nmail MX 10 mx\n`;
    expect(served(minimum)).toContain('mail.m.test. 300 MX 10 mx.m.test.');
    refuses(minimum, [rrset('www', 'A', 120, '192.0.2.1')]);
    // Two changed owners in a row: the second's range (its lines and the record after them) is read too.
    const adjacent = `$ORIGIN m.test.\n@ 300 SOA ns1 h 1 2 3 4 5\n  300 NS ns1\na 60 A 192.0.2.1\nb 30 A 192.0.2.2\nc A 192.0.2.3\n`;
    const both = [rrset('a', 'A', 120, '192.0.2.1'), rrset('b', 'A', 90, '192.0.2.2'), { op: 'serial' } as ZoneEdit];
    const two = editMasterRanges(FILE, adjacent, ORIGIN, both, servedAt(adjacent, both));
    expect(two.text).toBe(applyMasterEdits(FILE, adjacent, ORIGIN, both).text);
    expect(served(two.text)).toContain('c.m.test. 30 A 192.0.2.3');
    // A line whose TTL comes from before its range cannot be read alone: the reader refuses it (ZoneFileError).
    const alone = `$ORIGIN m.test.\n@ 300 SOA ns1 h 1 2 3 4 5\n  300 NS ns1\nwww A 192.0.2.1\n`;
    const www = [rrset('www', 'A', 60, '192.0.2.2'), { op: 'serial' } as ZoneEdit];
    expect(() => editMasterRanges(FILE, alone, ORIGIN, www, servedAt(alone, www))).toThrow(/no TTL/);
  });
});

describe('random files and changes: the same file as the whole-file editor, or a refusal', () => {
  const owners = ['www', 'a', 'b.c', 'mail', 'x'];
  const types: [keyof typeof RRType, (n: number) => string][] = [
    ['A', (n) => `192.0.2.${n}`], ['AAAA', (n) => `2001:db8::${n}`], ['TXT', (n) => `"t${n}"`], ['MX', (n) => `${n} mx${n}.example.net.`],
  ];

  function zoneText(r: () => number): string {
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    const ttlDefault = r() < 0.5;
    // Without $TTL and an SOA TTL, the SOA MINIMUM (5) is the default TTL (as BIND does).
    let s = `$ORIGIN m.test.\n${ttlDefault ? '$TTL 77\n' : ''}@ ${r() < 0.5 ? '3600 ' : ''}IN SOA ns1 h ( 1 2\n 3 4 5 )\n  ${ttlDefault ? '' : '3600 '}NS ns1\n`;
    let n = 0;
    for (let i = 0; i < 16; i++) {
      if (r() < 0.08) s += pick(['$ORIGIN sub.m.test.\n', '$ORIGIN m.test.\n', '$TTL 99\n']);
      const [type, value] = pick(types);
      const ttl = r() < 0.5 ? ` ${pick([60, 120, 300])}` : '';
      const cls = r() < 0.3 ? ' IN' : '';
      const owner = i > 0 && r() < 0.35 ? '   ' : pick(owners);
      const v = type === 'TXT' && r() < 0.3 ? `( ${value(++n)}\n  "more" )` : value(++n);
      s += `${owner}${ttl}${cls} ${type} ${v}${r() < 0.2 ? ' ; note' : ''}\n`;
      if (r() < 0.1) s += '; a comment line\n';
    }
    return s;
  }

  it('1,000 seeded cases', () => {
    let ranged = 0;
    let valid = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const r = rng(seed);
      const text = zoneText(r);
      try {
        parseMasterFile(FILE, text, { origin });
      } catch {
        continue; // a generated file that does not load (e.g. no TTL for a line): nothing to change
      }
      valid++;
      const edits: ZoneEdit[] = [];
      const changed = new Set<string>();
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
        const owner = Name.fromText(owners[Math.floor(r() * owners.length)], r() < 0.2 ? Name.fromText('sub.m.test.') : origin);
        const [type, value] = types[Math.floor(r() * types.length)];
        if (changed.has(`${owner} ${type}`)) continue;
        changed.add(`${owner} ${type}`);
        const values = r() < 0.3 ? [] : [value(100 + k), value(200 + k)];
        edits.push({ op: 'rrset', owner: owner.toString(), type: RRType[type], ttl: 99, rdatas: values.map((x) => parseRdata(RRType[type], x, origin)) });
      }
      edits.push({ op: 'serial' });
      const whole = applyMasterEdits(FILE, text, ORIGIN, edits).text;
      let out;
      try {
        out = editMasterRanges(FILE, text, ORIGIN, edits, servedAt(text, edits));
      } catch (err) {
        if (err instanceof MasterRangeUnfit || err instanceof ZoneFileError) continue;
        throw err;
      }
      ranged++;
      expect(served(out.text), `seed ${seed}\n${text}\n---\n${out.text}`).toEqual(served(whole));
      expect(out.text, `seed ${seed}`).toBe(whole); // byte for byte
      // The records read back hold each changed RRset exactly as the change made it.
      for (const e of edits) {
        if (e.op !== 'rrset') continue;
        const got = out.records.filter((x) => x.name.toString() === e.owner && x.type === e.type).map((x) => Buffer.from(x.rdata).toString('hex')).sort();
        expect(got, `seed ${seed}`).toEqual(e.rdatas.map((x) => Buffer.from(x).toString('hex')).sort());
      }
    }
    expect(valid).toBeGreaterThan(500);
    // About half go range by range: most refusals are files without $TTL, whose lines inherit TTLs from lines
    // before their range (a refusal costs only time; files with $TTL or a TTL on every line mostly go ranged).
    expect(ranged).toBeGreaterThan(valid * 0.45);
  });
});
