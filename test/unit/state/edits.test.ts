// Admin edits to a zone file's text (yamledit.ts applyEdits): a large file is edited slice by slice, and
// the result must mean what editing the whole document means, while untouched slices stay byte for byte.
import { describe, expect, it } from 'vitest';
import { parseZoneFile, sliceRecords } from '../../../src/config/zonefile.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { applyEdits, YamlEditError, type ZoneEdit } from '../../../src/state/yamledit.js';
import { editZoneFileAsync, editZoneFileParts, offThreadStats } from '../../../src/state/offthread.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ORIGIN = 'example.org.';
const o = Name.fromText(ORIGIN);
const SLICED = { sliceFromBytes: 0, sliceLines: 4 };
const WHOLE = { sliceFromBytes: Infinity };

const HEAD = `# a zone
zone:
  soa: { mname: ns1, rname: hostmaster, serial: 41 }  # kept
  nameservers: [ns1.example.org.]
records:
`;
let body = '';
for (let i = 0; i < 30; i++) body += i % 7 === 3 ? `  # comment ${i}\n  n${i}:\n    - { type: A, value: 192.0.2.${i} }\n    - { type: TXT, value: "t${i}" }\n` : `  n${i}: { type: A, value: 192.0.2.${i} }\n`;
const TEXT = HEAD + body;

const A = (owner: string, ...ips: string[]): Extract<ZoneEdit, { op: 'rrset' }> => ({ op: 'rrset', owner, type: RRType.A, ttl: 300, rdatas: ips.map((ip) => parseRdata(RRType.A, ip, o)) });
const EDITS: ZoneEdit[] = [
  { op: 'setting', path: ['dnssec', 'enabled'], value: true },
  A('n10.example.org.', '198.51.100.10', '198.51.100.11'), // changed, in a middle slice
  A('n3.example.org.'), // its A removed, its TXT stays
  { op: 'rrset', owner: 'n17.example.org.', type: RRType.TXT, ttl: 60, rdatas: [parseRdata(RRType.TXT, '"added"', o)] }, // a type added
  A('n25.example.org.'), // the only record: the owner goes
  A('new.example.org.', '203.0.113.1'), // a new owner
  { op: 'serial' },
];

const records = (text: string) => parseZoneFile('example.org.yaml', text, { ...WHOLE, mtime: new Date(0) }).input.records
  .map((r) => `${r.name} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`).sort();

describe('applyEdits on a file edited slice by slice', () => {
  it('means the same as editing the whole document', () => {
    const whole = applyEdits(TEXT, ORIGIN, EDITS, WHOLE);
    const sliced = applyEdits(TEXT, ORIGIN, EDITS, SLICED);
    expect(records(sliced)).toEqual(records(whole));
    const z = parseZoneFile('example.org.yaml', sliced, { mtime: new Date(0) });
    expect(z.config.dnssec.enabled).toBe(true);
    expect(sliced).toMatch(/serial: 42/);
    expect(sliced).toContain('# kept');
    expect(records(sliced)).not.toEqual(records(TEXT));
    expect(sliced).not.toMatch(/n25:/);
    expect(sliced).toMatch(/ {2}new:/);
  });

  it('keeps every slice without a changed owner byte for byte', () => {
    const before = sliceRecords(TEXT, 4)!.slices.map((x) => x.text);
    const after = applyEdits(TEXT, ORIGIN, [A('n10.example.org.', '198.51.100.10')], SLICED);
    const kept = before.filter((t) => after.includes(t));
    expect(kept.length).toBe(before.length - 1);
    expect(before.find((t) => !after.includes(t))).toMatch(/n10:/);
    expect(after.startsWith(HEAD)).toBe(true); // no setting or serial edit: the head is untouched too
  });

  it('a change to a file that does not parse is refused (by the edit, or by parsing its result)', async () => {
    const broken = TEXT + '  bad: { type: A\n';
    expect(() => applyEdits(broken, ORIGIN, EDITS, SLICED)).toThrow(YamlEditError); // the new owner goes in the broken slice
    await expect(editZoneFileAsync('example.org.yaml', broken, ORIGIN, [A('n1.example.org.', '192.0.2.99')], SLICED)).rejects.toThrow(/YAML syntax error/);
    await expect(editZoneFileAsync('example.org.yaml', broken, ORIGIN, [A('n1.example.org.', '192.0.2.99')], WHOLE)).rejects.toThrow(YamlEditError);
  });

  it('gives the same text and zone on a worker thread', async () => {
    const inPlace = applyEdits(TEXT, ORIGIN, EDITS, SLICED);
    const off = await editZoneFileAsync('example.org.yaml', TEXT, ORIGIN, EDITS, { ...SLICED, offThreadFromBytes: 0, mtime: new Date(0) });
    expect(off.text).toBe(inPlace);
    expect(off.loaded.input.records.length).toBe(parseZoneFile('example.org.yaml', inPlace, { mtime: new Date(0) }).input.records.length);
    await expect(editZoneFileAsync('example.org.yaml', TEXT + '  bad: { type: A\n', ORIGIN, EDITS, { offThreadFromBytes: 0 })).rejects.toThrow(YamlEditError);
  });

  it('finds an owner whose key is written with escapes (not by its text), and appends owners marked new', () => {
    const text = TEXT.replace('  n12: {', "  '\\11012': {"); // n12, its n written as the escape \110
    expect(text).toContain("'\\11012'");
    const edited = applyEdits(text, ORIGIN, [A('n12.example.org.', '198.51.100.12'), { ...A('fresh.example.org.', '203.0.113.5'), isNew: true }], SLICED);
    const got = records(edited);
    expect(got.filter((r) => r.startsWith('n12.example.org. 1 '))).toEqual(['n12.example.org. 1 300 c633640c']);
    expect(got.filter((r) => r.startsWith('fresh.example.org. 1 '))).toEqual(['fresh.example.org. 1 300 cb007105']);
    // A wrong "new" mark for an owner the text search misses gives the owner twice, which parsing refuses.
    const wrong = applyEdits(text, ORIGIN, [{ ...A('n12.example.org.', '203.0.113.6'), isNew: true }], SLICED);
    expect(() => parseZoneFile('example.org.yaml', wrong, WHOLE)).toThrow(/owner "n12" is the same name as the owner at line \d+/);
  });
});

describe('a large file\'s change written on the worker thread (issue 16: no second copy of the text)', () => {
  // Kept slices are written from the bytes read when the file has one byte per character, else encoded a
  // megabyte at a time: either way the file is the edited text's UTF-8, byte for byte.
  const withComments = (text: string, comment: string) => text.replace(/^( {2}n\d*[05]:)/gm, `  # ${comment}\n$1`);
  // 20,000 owners with a comment of non-ASCII text each: over a megabyte of kept text, so spans are cut in chunks.
  let large = HEAD;
  for (let i = 0; i < 20_000; i++) large += `  # owner ${i}: café — naïve 𝄞\n  n${i}: { type: A, value: 192.0.${i >> 8}.${i & 255} }\n`;
  const cases: [string, string][] = [
    ['ASCII only', TEXT],
    ['with two-, three- and four-byte characters', withComments(TEXT, 'café — naïve 𝄞 ünïcode')],
    ['over a megabyte, not ASCII', large],
  ];
  for (const [what, text] of cases) {
    it(what, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-edits-'));
      try {
        const file = join(dir, 'example.org.yaml');
        await writeFile(file, text);
        const opts = { sliceFromBytes: 0, sliceLines: text === large ? 500 : 4, offThreadFromBytes: 0, mtime: new Date(0) };
        const { tmp, loaded } = await editZoneFileParts(file, ORIGIN, EDITS, ['n10', 'n3', 'n17', 'n25', 'new'], opts);
        const want = Buffer.from(applyEdits(text, ORIGIN, EDITS, opts));
        expect((await readFile(tmp)).equals(want)).toBe(true);
        expect(await readFile(file, 'utf8')).toBe(text); // the file itself is the caller's to replace
        expect(loaded.input.records.some((r) => r.name.toString() === 'new.example.org.')).toBe(true);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('changes of mid-sized files share one kept thread (offthread.ts WARM_BELOW_BYTES)', () => {
  it('a run of changes starts one thread; a change while it is busy gets its own; errors come back as from a thread of its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-warm-'));
    try {
      const file = join(dir, 'example.org.yaml');
      await writeFile(file, TEXT);
      const opts = { sliceFromBytes: 0, sliceLines: 4, offThreadFromBytes: 0, mtime: new Date(0) };
      const edit = () => editZoneFileParts(file, ORIGIN, EDITS, ['n10', 'n3', 'n17', 'n25', 'new'], opts);
      const want = Buffer.from(applyEdits(TEXT, ORIGIN, EDITS, opts));
      const started = offThreadStats.started;
      for (let i = 0; i < 4; i++) {
        const { tmp } = await edit();
        expect((await readFile(tmp)).equals(want)).toBe(true);
        await rm(tmp);
      }
      // At most one thread for the four (none when a kept thread was there already); it costs ~100 ms to start.
      expect(offThreadStats.started - started).toBeLessThanOrEqual(1);
      const before = offThreadStats.started;
      const both = await Promise.all([edit(), edit()]);
      expect(offThreadStats.started - before).toBe(1); // the second while the kept one was busy
      for (const { tmp } of both) expect((await readFile(tmp)).equals(want)).toBe(true);
      // A file that does not parse: the same error a thread of its own gives, and the kept thread takes the next change.
      await writeFile(file, TEXT + '  bad: { type: A\n');
      const err = await edit().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(YamlEditError);
      expect((err as Error).message).toMatch(/zone file does not parse/);
      await writeFile(file, TEXT);
      const again = offThreadStats.started;
      expect((await readFile((await edit()).tmp)).equals(want)).toBe(true);
      expect(offThreadStats.started).toBe(again);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a large file\'s change parses the slices that hold its owners (yamledit.ts)', () => {
  // 3,000 owners whose names contain "web" and "ab1" inside them (xweb12, yab1z...), in slices of 100 lines.
  let text = HEAD;
  for (let i = 0; i < 3000; i++) text += `  x${i}web${i % 7}: { type: A, value: 192.0.2.${i % 250} }\n  y${i}ab1z: { type: TXT, value: "web ab1 ${i}" }\n`;
  text += '  ab1: { type: A, value: 192.0.2.1 }\n';
  const opts = (parsed: { slices: number }) => ({ sliceFromBytes: 0, sliceLines: 100, parsed });

  it('a new owner whose name is a substring of many others: only the last slice (where it goes)', () => {
    const parsed = { slices: 0 };
    const out = applyEdits(text, ORIGIN, [{ ...A('web.example.org.', '203.0.113.80'), isNew: true }, { op: 'serial' }], opts(parsed));
    expect(parsed.slices).toBe(1);
    expect(records(out).some((r) => r.startsWith('web.example.org. 1 '))).toBe(true);
  });

  it('an existing owner whose name is a substring of many others: the slices with a line whose key starts with it', () => {
    const parsed = { slices: 0 };
    const out = applyEdits(text, ORIGIN, [A('ab1.example.org.', '203.0.113.81'), { op: 'serial' }], opts(parsed));
    expect(parsed.slices).toBe(1);
    expect(records(out).filter((r) => r.startsWith('ab1.example.org. 1 '))).toEqual([`ab1.example.org. 1 300 ${Buffer.from([203, 0, 113, 81]).toString('hex')}`]);
    // The same result as editing the whole document.
    expect(out).toBe(applyEdits(text, ORIGIN, [A('ab1.example.org.', '203.0.113.81'), { op: 'serial' }], WHOLE));
  });
});
