// Large zone files: the records section parsed in slices (zonefile.ts sliceRecords) and on a worker
// thread (offthread.ts, packed.ts). Both must give exactly what parsing the whole file in place gives,
// records, warnings, lines and errors alike; the thresholds are lowered so small texts take these paths.
import { describe, expect, it } from 'vitest';
import { parseZoneFileAsync } from '../../../src/state/offthread.js';
import { packLoadedZone, unpackLoadedZone } from '../../../src/config/packed.js';
import { parseZoneFile, sliceRecords, ZoneFileError, type LoadedZone } from '../../../src/config/zonefile.js';
import { FILE, HEADER, thrown } from './helpers.js';

const SLICED = { sliceFromBytes: 0, sliceLines: 3 };
const WHOLE = { sliceFromBytes: Infinity };
const MTIME = new Date(1_700_000_000_000);

/** Everything a LoadedZone says, as plain data (Names as text, RDATA as hex). */
function plain(z: LoadedZone): unknown {
  return {
    file: z.file, defaultTtl: z.defaultTtl, config: z.config, warnings: z.warnings,
    origin: z.input.origin.toString(), source: z.input.source,
    settings: { ...z.input.settings, nameservers: z.input.settings.nameservers.map(String) },
    records: z.input.records.map((r) => `${r.name.toString()} ${r.class} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`),
    owners: [...z.locations.owners], lines: [...z.locations.records], soa: z.locations.soa, nameservers: z.locations.nameservers,
  };
}

// Every shape of owner entry: flow and block maps, a sequence at the owner's indentation (compact YAML
// style) and indented, comments and blank lines at every level, a block scalar, quoted keys, names that
// need escapes and upper case, the apex, a `?` complex key, and an SPF record (a warning).
const BODY = `  # the apex
  '@':
    - { type: MX, value: { preference: 10, exchange: mail } }
    - type: TXT
      values:
        - "v=spf1 -all"
        - |
          a block scalar
  www: { type: A, values: [192.0.2.1, 192.0.2.2] }

  WWW2:
  - type: AAAA
    value: 2001:db8::1
  # a comment at the owner's indentation
  "quoted.name": { type: CNAME, value: www }
  mail:
    type: A
    value: 192.0.2.25
    ttl: 60
  'odd\\.label': { type: A, value: 192.0.2.9 }
  a.b.c: { type: TXT, value: deep }
  tt: { type: A, values: [192.0.2.3] , ttl: 30 }
  spf: { type: SPF, value: "v=spf1 -all" }
  sub: { type: NS, values: [ns1.sub, ns2.sub] }
  ns1.sub: { type: A, value: 192.0.2.53 }
  ? complex
  : { type: A, value: 192.0.2.77 }
  last:
    type: SRV
    value: { priority: 1, weight: 2, port: 3, target: www }
`;
const TEXT = `${HEADER}records:\n${BODY}`;

describe('sliceRecords', () => {
  it('cuts only before owner keys: not at comments, blank lines or `-` items at the owner indentation', () => {
    const s = sliceRecords(TEXT, 1)!;
    expect(s.head).toBe(`${HEADER}records:\n`);
    const lines = TEXT.split('\n');
    expect(s.slices.length).toBeGreaterThan(8);
    for (const [i, slice] of s.slices.entries()) {
      // The slice is the file's text from its first line on, and (after the first) starts with an owner key.
      expect(lines.slice(slice.firstLine - 1).join('\n').startsWith(slice.text)).toBe(true);
      if (i > 0) expect(slice.text).toMatch(/^ {2}[^ #?:-]/);
    }
    expect(s.slices.map((x) => x.text).join('')).toBe(BODY);
  });

  it('leaves other shapes to the whole-document parse', () => {
    expect(sliceRecords(`records:\n  a: { type: A, value: 192.0.2.1 }\n${HEADER}`, 1)).toBeUndefined(); // records: not last
    expect(sliceRecords(`${HEADER}records: { a: { type: A, value: 192.0.2.1 } }\n`, 1)).toBeUndefined(); // flow mapping
    expect(sliceRecords(`${HEADER}records:\n- a\n`, 1)).toBeUndefined(); // not a mapping
    expect(sliceRecords(`${HEADER}`, 1)).toBeUndefined(); // no records
  });
});

describe('records parsed in slices', () => {
  it('give the same zone as the whole document: records, warnings, lines', () => {
    const whole = parseZoneFile(FILE, TEXT, { ...WHOLE, mtime: MTIME });
    const sliced = parseZoneFile(FILE, TEXT, { ...SLICED, mtime: MTIME });
    expect(whole.input.records.length).toBe(18);
    expect(whole.warnings.length).toBeGreaterThan(0);
    expect(plain(sliced)).toEqual(plain(whole));
  });

  it('report a bad value in a late slice at its line in the file', () => {
    const text = TEXT + '  bad: { type: A, value: 300.1.1.1 }\n';
    const line = text.split('\n').length - 1;
    const e = thrown(() => parseZoneFile(FILE, text, SLICED)) as ZoneFileError;
    expect(e).toBeInstanceOf(ZoneFileError);
    expect(e.line).toBe(line);
    expect(e.message).toBe((thrown(() => parseZoneFile(FILE, text, WHOLE)) as Error).message);
  });

  it('report a YAML syntax error as the whole document does, even after a bad value in an earlier slice', () => {
    const text = TEXT.replace('www: { type: A,', 'www: { type: BOGUS,') + '  broken: { type: A, value: "192.0.2.1 }\n';
    const whole = thrown(() => parseZoneFile(FILE, text, WHOLE)) as ZoneFileError;
    expect(whole.reason).toMatch(/YAML syntax error/);
    expect((thrown(() => parseZoneFile(FILE, text, SLICED)) as Error).message).toBe(whole.message);
  });

  it('catch an owner given twice in different slices (YAML keys are unique)', () => {
    const text = TEXT + '  www: { type: TXT, value: again }\n';
    const e = thrown(() => parseZoneFile(FILE, text, SLICED)) as ZoneFileError;
    expect(e.reason).toMatch(/duplicate key "www"/);
    expect(e.line).toBe(text.split('\n').length - 1);
  });
});

describe('parsing on a worker thread', () => {
  it('gives the same zone as parsing in place', async () => {
    const inPlace = parseZoneFile(FILE, TEXT, { mtime: MTIME });
    const off = await parseZoneFileAsync(FILE, TEXT, { offThreadFromBytes: 0, mtime: MTIME });
    expect(plain(off)).toEqual(plain(inPlace));
    // Owners share the origin's labels again (memory), and records of one owner share its Name.
    const www = off.input.records.filter((r) => r.name.toString() === 'www.example.org.');
    expect(www.length).toBe(2);
    expect(www[0].name).toBe(www[1].name);
    expect(www[0].name.labels[1]).toBe(off.input.origin.labels[0]);
  });

  it('throws the same ZoneFileError', async () => {
    const text = TEXT + '  bad: { type: A, value: 300.1.1.1 }\n';
    const expected = thrown(() => parseZoneFile(FILE, text)) as ZoneFileError;
    const e = await parseZoneFileAsync(FILE, text, { offThreadFromBytes: 0 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ZoneFileError);
    expect((e as ZoneFileError).message).toBe(expected.message);
    expect((e as ZoneFileError).line).toBe(expected.line);
  });

  it('packs and unpacks names outside the origin, escapes and case as they were', () => {
    const z = parseZoneFile(FILE, `${HEADER}records:\n  'A\\.b\\\\c\\009': { type: A, value: 192.0.2.1 }\n  other.example.: { type: A, value: 192.0.2.2 }\n`);
    const back = unpackLoadedZone(packLoadedZone(z));
    expect(back.input.records.map((r) => r.name.toString())).toEqual(z.input.records.map((r) => r.name.toString()));
    expect(back.input.records.map((r) => r.name.key)).toEqual(z.input.records.map((r) => r.name.key));
  });
});
