// Admin changes written into master files (state/masteredit.ts), checked as diffs: only the changed RRsets'
// lines move, the SOA serial is bumped in place, a line that inherited its owner or TTL from a changed line
// keeps its meaning, included files are edited in place, settings go to <zone>.yaml.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMasterEdits, MasterEditError } from '../../../src/state/masteredit.js';
import { parseMasterFile } from '../../../src/config/masterfile.js';
import { Name } from '../../../src/dns/name.js';
import { formatRdata, parseRdata } from '../../../src/dns/rdata.js';
import { RRType, typeName } from '../../../src/dns/types.js';
import type { ZoneEdit } from '../../../src/state/yamledit.js';
import { editZoneFileAsync } from '../../../src/state/offthread.js';

const ORIGIN = 'm.test.';
const origin = Name.fromText(ORIGIN);

const ZONE = `; m.test, hand-written
$ORIGIN m.test.
@ 3600 IN SOA ns1 hostmaster ( 2024010101 ; serial
        1d 2h 1000h 300 )
  3600 NS ns1
ns1 300 A 192.0.2.53   ; our nameserver
www 60 A 192.0.2.1
        A 192.0.2.2
    AAAA 2001:db8::1
mail MX 10 mx.example.net.
`;

const rrset = (owner: string, type: keyof typeof RRType, ttl: number, ...values: string[]): ZoneEdit => ({
  op: 'rrset', owner: Name.fromText(owner, origin).toString(), type: RRType[type], ttl, rdatas: values.map((v) => parseRdata(RRType[type], v, origin)),
});

/** Lines removed (-) and added (+), in order: a line diff by longest common subsequence. */
function diff(a: string, b: string): string[] {
  const x = a.split('\n'), y = b.split('\n');
  const L = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) for (let j = y.length - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out: string[] = [];
  let i = 0, j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) { i++; j++; }
    else if (i < x.length && (j >= y.length || L[i + 1][j] >= L[i][j + 1])) out.push(`-${x[i++]}`);
    else out.push(`+${y[j++]}`);
  }
  return out;
}

/** The zone's records as text lines, sorted. */
function served(text: string, files: Record<string, string> = {}): string[] {
  return parseMasterFile('/z/m.test.zone', text, { origin, readText: (p) => files[p] })
    .records.map((r) => `${r.name} ${r.ttl} ${typeName(r.type)} ${formatRdata(r.type, r.rdata)}`).sort();
}

describe('record changes touch only the changed RRsets\' lines', () => {
  it('a changed RRset replaces its lines at the first one; the serial is bumped in place', () => {
    const out = applyMasterEdits('/z/m.test.zone', ZONE, ORIGIN, [rrset('www', 'A', 120, '192.0.2.9'), { op: 'serial' }]);
    expect(diff(ZONE, out.text)).toEqual([
      '-@ 3600 IN SOA ns1 hostmaster ( 2024010101 ; serial', '+@ 3600 IN SOA ns1 hostmaster ( 2024010102 ; serial',
      '-www 60 A 192.0.2.1', '-        A 192.0.2.2', '-    AAAA 2001:db8::1', '+www\t120\tIN\tA\t192.0.2.9',
      '+    60 AAAA 2001:db8::1', // it took TTL 60 from the old line (RFC 1035 §5.1), not 120 from the new one
    ]);
    expect(out.others).toEqual([]);
    expect(served(out.text)).toContain('www.m.test. 60 AAAA 2001:db8::1');
  });

  it('deleting the line that named an owner writes the owner on the next line that inherited it', () => {
    const out = applyMasterEdits('/z/m.test.zone', ZONE, ORIGIN, [rrset('www', 'A', 60)]);
    expect(diff(ZONE, out.text)).toEqual([
      '-www 60 A 192.0.2.1', '-        A 192.0.2.2', '-    AAAA 2001:db8::1', '+www    60 AAAA 2001:db8::1',
    ]);
    expect(served(out.text)).toEqual(served(ZONE).filter((l) => !/^www\.m\.test\. 60 A /.test(l)));
  });

  it('a TTL the next line took from a changed line (no $TTL: the previous TTL, RFC 1035 §5.1) is written out', () => {
    const out = applyMasterEdits('/z/m.test.zone', ZONE, ORIGIN, [rrset('www', 'A', 30, '192.0.2.1')]);
    expect(diff(ZONE, out.text)).toEqual([
      '-www 60 A 192.0.2.1', '-        A 192.0.2.2', '-    AAAA 2001:db8::1', '+www\t30\tIN\tA\t192.0.2.1', '+    60 AAAA 2001:db8::1',
    ]);
    expect(served(out.text)).toContain('www.m.test. 60 AAAA 2001:db8::1');
  });

  it('with $TTL the lines after a changed one do not depend on it and stay as they are', () => {
    const text = ZONE.replace('$ORIGIN m.test.\n', '$ORIGIN m.test.\n$TTL 60\n').replace('www 60 A', 'www A');
    const out = applyMasterEdits('/z/m.test.zone', text, ORIGIN, [rrset('www', 'A', 30, '192.0.2.1')]);
    expect(diff(text, out.text)).toEqual(['-www A 192.0.2.1', '-        A 192.0.2.2', '+www\t30\tIN\tA\t192.0.2.1']);
  });

  it('a new RRset goes at the end of the main file, relative to the $ORIGIN in effect there', () => {
    const text = `${ZONE}$ORIGIN sub.m.test.\nx 60 A 192.0.2.7`; // and no final newline
    const out = applyMasterEdits('/z/m.test.zone', text, ORIGIN, [rrset('new', 'TXT', 300, '"hello world"'), rrset('y.sub', 'A', 300, '192.0.2.8')]);
    expect(diff(text, out.text)).toEqual(['+new.m.test.\t300\tIN\tTXT\t"hello world"', '+y\t300\tIN\tA\t192.0.2.8', '+']);
    expect(served(out.text)).toContain('new.m.test. 300 TXT "hello world"');
    expect(served(out.text)).toContain('y.sub.m.test. 300 A 192.0.2.8');
  });

  it('an RRset spread over the file is gathered where its first line was; a multi-line record goes whole', () => {
    const text = `${ZONE}txt TXT ( "a"\n  "b" )\nother 60 A 192.0.2.3\nmail MX 20 mx2.example.net.\n`;
    const out = applyMasterEdits('/z/m.test.zone', text, ORIGIN, [rrset('mail', 'MX', 300, '5 mx.example.net.'), rrset('txt', 'TXT', 60)]);
    expect(diff(text, out.text)).toEqual([
      '-mail MX 10 mx.example.net.', '-txt TXT ( "a"', '-  "b" )', '+mail\t300\tIN\tMX\t5 mx.example.net.',
      '-mail MX 20 mx2.example.net.',
    ]);
  });

  it('a record from an $INCLUDEd file is edited in that file; the main file only gets the serial', () => {
    const text = `${ZONE}$INCLUDE hosts.zone hosts\n`;
    const hosts = '; hosts\nh1 60 A 192.0.2.11\nh2 60 A 192.0.2.12\n';
    const files = { '/z/hosts.zone': hosts };
    const out = applyMasterEdits('/z/m.test.zone', text, ORIGIN, [rrset('h1.hosts', 'A', 60, '192.0.2.99'), { op: 'serial' }], { readText: (p) => files[p as '/z/hosts.zone'] });
    expect(diff(text, out.text)).toEqual(['-@ 3600 IN SOA ns1 hostmaster ( 2024010101 ; serial', '+@ 3600 IN SOA ns1 hostmaster ( 2024010102 ; serial']);
    expect(out.others.map((o) => o.file)).toEqual(['/z/hosts.zone']);
    expect(diff(hosts, out.others[0].text)).toEqual(['-h1 60 A 192.0.2.11', '+h1\t60\tIN\tA\t192.0.2.99']);
    expect(out.readText('/z/hosts.zone')).toBe(out.others[0].text);
  });

  it('a file $INCLUDEd twice cannot be edited for one inclusion', () => {
    const text = `${ZONE}$INCLUDE h.zone a\n$INCLUDE h.zone b\n`;
    const files: Record<string, string> = { '/z/h.zone': 'x 60 A 192.0.2.1\n' };
    expect(() => applyMasterEdits('/z/m.test.zone', text, ORIGIN, [rrset('x.a', 'A', 60)], { readText: (p) => files[p] })).toThrow(MasterEditError);
  });
});

describe('settings changes go to <zone>.yaml beside the file', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tandem-me-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('created when missing; the master file is untouched', async () => {
    const file = join(dir, 'm.test.zone');
    await writeFile(file, ZONE);
    const out = applyMasterEdits(file, ZONE, ORIGIN, [{ op: 'setting', path: ['dnssec', 'enabled'], value: true }]);
    expect(out.text).toBe(ZONE);
    expect(out.others).toEqual([{ file: join(dir, 'm.test.yaml'), text: 'zone:\n  dnssec:\n    enabled: true\n' }]);
  });

  it('editZoneFileAsync on the parser thread gives what it gives in place: main text, other files, records', async () => {
    const file = join(dir, 'm.test.zone');
    const text = `${ZONE}$INCLUDE hosts.zone hosts\n`;
    await writeFile(file, text);
    await writeFile(join(dir, 'hosts.zone'), 'h1 60 A 192.0.2.11\n');
    const edits: ZoneEdit[] = [rrset('h1.hosts', 'A', 60, '192.0.2.99'), rrset('new', 'A', 60, '192.0.2.5'), { op: 'serial' }, { op: 'setting', path: ['dnssec', 'enabled'], value: true }];
    const here = await editZoneFileAsync(file, text, ORIGIN, edits);
    const off = await editZoneFileAsync(file, text, ORIGIN, edits, { offThreadFromBytes: 0 });
    expect(off.text).toBe(here.text);
    expect(off.others).toEqual(here.others);
    expect(off.others!.map((o) => o.file).sort()).toEqual([join(dir, 'hosts.zone'), join(dir, 'm.test.yaml')]);
    expect(off.loaded.config.dnssec.enabled).toBe(true); // parsed with the edited settings, before anything is written
    const show = (z: typeof off.loaded) => z.input.records.map((r) => `${r.name} ${formatRdata(r.type, r.rdata)}`).sort();
    expect(show(off.loaded)).toEqual(show(here.loaded));
    expect(show(off.loaded)).toContain('h1.hosts.m.test. 192.0.2.99');
    expect(off.packed).toBeDefined();
  });

  it('an existing one keeps its comments and other keys', async () => {
    const file = join(dir, 'm.test.zone');
    const settings = '# ours\nzone:\n  nameservers:\n    - ns1.m.test. # the primary\n  dnssec:\n    enabled: true\n';
    await writeFile(join(dir, 'm.test.yaml'), settings);
    const out = applyMasterEdits(file, ZONE, ORIGIN, [{ op: 'setting', path: ['dnssec', 'denial'], value: 'nsec3' }]);
    expect(diff(settings, out.others[0].text)).toEqual(['+    denial: nsec3']);
    expect(await readFile(join(dir, 'm.test.yaml'), 'utf8')).toBe(settings); // nothing written here: the manager writes
  });
});

describe('random files and changes: the result serves exactly the old records with the changed RRsets replaced', () => {
  /** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
  function rng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const owners = ['www', 'a', 'b.c', '@', 'mail'];
  const types: [keyof typeof RRType, (n: number) => string][] = [
    ['A', (n) => `192.0.2.${n}`], ['AAAA', (n) => `2001:db8::${n}`], ['TXT', (n) => `"t${n}"`], ['MX', (n) => `${n} mx${n}.example.net.`],
  ];

  function zoneText(r: () => number): string {
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    let s = `$ORIGIN m.test.\n${r() < 0.3 ? '$TTL 77\n' : ''}@ 3600 IN SOA ns1 h 1 2 3 4 5\n  NS ns1\n`;
    let n = 0;
    for (let i = 0; i < 12; i++) {
      const [type, value] = pick(types);
      const ttl = r() < 0.5 ? ` ${pick([60, 120, 300])}` : '';
      const cls = r() < 0.3 ? ' IN' : '';
      const owner = i > 0 && r() < 0.4 ? '   ' : pick(owners);
      s += `${owner}${ttl}${cls} ${type} ${value(++n)}${r() < 0.2 ? ' ; note' : ''}\n`;
      if (r() < 0.1) s += '; a comment line\n';
    }
    return s;
  }

  it('100 seeded cases', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const r = rng(seed);
      const text = zoneText(r);
      const before = served(text);
      const edits: ZoneEdit[] = [];
      const changed = new Set<string>();
      const want = new Set(before);
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
        const owner = owners[Math.floor(r() * owners.length)];
        const [type, value] = types[Math.floor(r() * types.length)];
        const name = Name.fromText(owner, origin).toString();
        if (changed.has(`${name} ${type}`)) continue;
        changed.add(`${name} ${type}`);
        const values = r() < 0.3 ? [] : [value(100 + k), value(200 + k)];
        edits.push(rrset(owner, type, 99, ...values));
        for (const l of before) if (l.startsWith(`${name} `) && l.split(' ')[2] === type) want.delete(l);
        for (const v of values) want.add(`${name} 99 ${type} ${formatRdata(RRType[type], parseRdata(RRType[type], v, origin))}`);
      }
      const out = applyMasterEdits('/z/m.test.zone', text, ORIGIN, edits);
      expect(served(out.text), `seed ${seed}\n${text}\n---\n${out.text}`).toEqual([...want].sort());
    }
  });
});
