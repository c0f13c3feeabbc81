// The dedicated reader of a large zone file's records section (config/records-reader.ts): what it accepts gives
// exactly the records, warnings and owner lines of the generic YAML path; what it does not understand or finds
// wrong it leaves to the generic path, so every error is still reported with its file and line (STYLE habit 6).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readRecordsSlice, type ReaderContext } from '../../../src/config/records-reader.js';
import { parseZoneFile, refusal, sliceRecords, ZoneFileError, type LoadedZone } from '../../../src/config/zonefile.js';
import { Name } from '../../../src/dns/name.js';
import { EXAMPLE_ZONE_FILE } from '../../helpers/zones.js';
import { FILE, HEADER, thrown } from './helpers.js';

const SLICED = { sliceFromBytes: 0, sliceLines: 1 };
const SLICED_GENERIC = { ...SLICED, recordsReader: false };
const WHOLE = { sliceFromBytes: Infinity };
const MTIME = new Date(1_700_000_000_000);

/** Everything a LoadedZone says, as plain data (Names as text, RDATA as hex). */
function plain(z: LoadedZone): unknown {
  return {
    warnings: z.warnings,
    records: z.input.records.map((r) => `${r.name.toString()} ${r.name.key} ${r.class} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`),
    owners: [...z.locations.owners], lines: [...z.locations.records], soa: z.locations.soa,
  };
}

/** The outcome of a parse: the zone as plain data, or the error's message and line. */
function outcome(text: string, options: object): unknown {
  try {
    return plain(parseZoneFile(FILE, text, { ...options, mtime: MTIME }));
  } catch (err) {
    if (!(err instanceof ZoneFileError)) throw err;
    return { error: err.message, line: err.line };
  }
}

const origin = Name.fromText('example.org.');
const parsedHeader = parseZoneFile(FILE, `${HEADER}records:\n`, { mtime: MTIME });
const CTX: ReaderContext = { origin, ttl: parsedHeader.defaultTtl, config: parsedHeader.config, refusal };

/** readRecordsSlice of a records body starting at file line 5 (after HEADER and `records:`). */
const read = (body: string) => readRecordsSlice(body, 5, CTX);

// Every shape the reader reads: flow and block mappings and sequences, a sequence at the owner's indentation,
// quoted keys and values (with '' and \" \\), comments after values and on their own lines at any indentation,
// blank lines, CRLF line ends, durations, structured values (MX, SRV, CAA, SVCB with nested lists), TXT
// values that need octoDNS's `\;`, names with escapes and upper case, and a quoted-TXT warning.
const ACCEPTED = `  # a comment at the owner's indentation
  www: { type: A, values: [192.0.2.1, 192.0.2.2] }   # after a value

  WWW2:
  - type: AAAA
    value: 2001:db8::1
      # a deeper comment
  "quoted.name": { type: CNAME, value: www }
  mail:
    type: A
    value: 192.0.2.25
    ttl: 1h
  'odd\\.label': { type: A, value: 192.0.2.9 }
  'it''s': { type: TXT, value: 'it''s "here"' }
  dq: { type: TXT, value: "a \\"quote\\" and a \\\\ backslash" }
  a.b.c: { type: TXT, value: deep#not-a-comment }
  tt: { type: A, values: [192.0.2.3] , ttl: 30 }
  sub:
    - { type: NS, values: [ns1.sub, ns2.sub] }
    - type: DS
      value: { key_tag: 12345, algorithm: 13, digest_type: 2, digest: 85689FEAA6F14CAE5237B0318403E6BE6708C8C75A329240F8E0DCAD745ED6C9 }
  ns1.sub: { type: A, value: 192.0.2.53 }
  mx:
    type: MX
    values:
      - { preference: 10, exchange: mail.example.org. }
      - preference: 20
        exchange: mail
  caa: { type: CAA, value: { flags: 0, tag: iodef, value: 'mailto:security@example.org' } }
  _dns:
    type: SVCB
    values:
      - { svcpriority: 1, targetname: ns1.example.org., svcparams: { alpn: [dot, h2], port: 853 } }
      - '2 ns2.example.org. alpn=dot port=853'
  dkim: { type: TXT, value: v=DKIM1\\; k=rsa\\; p=abc:def }
  quotedtxt: { type: TXT, value: '"already quoted"' }
  srv:
    -   type: SRV
        value:
          priority: 1
          weight: 2
          port: 3
          target: www
  crlf: { type: A, value: 192.0.2.10 }\r
  # non-ASCII text, here in a comment (§) and a value
  utf8: { type: TXT, value: héllo wörld }
  last:
    type: TXT
    values:
    - one
    - "two"
    - 'three'
    octodns: { ignored: true }
`;

describe('records reader: what it reads', () => {
  it('reads every owner of the common shapes, with the owner key lines', () => {
    const r = read(ACCEPTED)!;
    expect(r).toBeDefined();
    const lines = ACCEPTED.split('\n');
    expect(r.owners.map((o) => o.key)).toEqual(['www', 'WWW2', 'quoted.name', 'mail', 'odd\\.label', "it's", 'dq', 'a.b.c', 'tt', 'sub', 'ns1.sub',
      'mx', 'caa', '_dns', 'dkim', 'quotedtxt', 'srv', 'crlf', 'utf8', 'last']);
    for (const o of r.owners) expect(lines[o.line - 5]).toMatch(new RegExp(`^ {2}['"]?${o.key.slice(0, 2).replace(/[.\\]/g, '\\$&')}`));
    expect(r.owners.find((o) => o.key === 'mail')!.rrs[0].ttl).toBe(3600);
    expect(r.warnings.length).toBe(1); // the quoted TXT value
  });

  it('gives the same zone as the generic YAML path: records, names, TTLs, warnings, lines', () => {
    const text = `${HEADER}records:\n${ACCEPTED}`;
    const whole = outcome(text, WHOLE) as { records: string[]; warnings: string[] };
    expect(whole.records.length).toBe(28);
    expect(whole.warnings.length).toBe(1);
    expect(outcome(text, SLICED)).toEqual(whole);
    expect(outcome(text, { sliceFromBytes: 0, sliceLines: 7 })).toEqual(whole);
  });

  it('reads the demo zone as the generic path does (all but the apex, which keeps its record lines)', () => {
    const text = readFileSync(EXAMPLE_ZONE_FILE, 'utf8');
    const sliced = sliceRecords(text, 1)!;
    const readers = sliced.slices.map((s) => readRecordsSlice(s.text, s.firstLine, {
      ...CTX, origin: Name.fromText('example.com.'), ttl: parseZoneFile(EXAMPLE_ZONE_FILE, text).defaultTtl,
    }));
    expect(readers[0]).toBeUndefined(); // '@'
    expect(readers.slice(1).every((r) => r !== undefined)).toBe(true);
    const z = (o: object) => plain(parseZoneFile(EXAMPLE_ZONE_FILE, text, { ...o, mtime: MTIME }));
    expect(z(SLICED)).toEqual(z(WHOLE));
  });
});

describe('records reader: what it leaves to the generic path', () => {
  const cases: [string, string][] = [
    ['the apex', "  '@': { type: A, value: 192.0.2.1 }\n"],
    ['the apex by its full name', '  example.org.: { type: A, value: 192.0.2.1 }\n'],
    ['a multi-line plain scalar', '  a:\n    type: TXT\n    value: one\n      two\n'],
    ['a block scalar', '  a:\n    type: TXT\n    value: |\n      text\n'],
    ['a flow mapping over two lines', '  a: { type: A,\n    value: 192.0.2.1 }\n'],
    ['an anchor', '  a: &x { type: A, value: 192.0.2.1 }\n'],
    ['an alias', '  a: &x { type: A, value: 192.0.2.1 }\n  b: *x\n'],
    ['a tag', '  a: !!map { type: A, value: 192.0.2.1 }\n'],
    ['a tab', '  a: { type: TXT, value: "x\ty" }\n'],
    ['a control character', '  a: { type: TXT, value: "x\u0001y" }\n'],
    ['a byte order mark', '  a: { type: TXT, value: \ufeffx }\n'],
    ['a double-quoted escape other than \\\\ and \\"', '  a: { type: TXT, value: "a\\x41" }\n'],
    ['a complex key', '  ? a\n  : { type: A, value: 192.0.2.1 }\n'],
    ['a null value', '  a: { type: A, value: ~ }\n'],
    ['a key without a value', '  a:\n  b: { type: A, value: 192.0.2.1 }\n'],
    ['a duplicate owner', '  a: { type: A, value: 192.0.2.1 }\n  a: { type: A, value: 192.0.2.2 }\n'],
    ['the same name twice', '  a: { type: A, value: 192.0.2.1 }\n  A: { type: A, value: 192.0.2.2 }\n'],
    ['a duplicate record key', '  a: { type: A, type: AAAA, value: 192.0.2.1 }\n'],
    ['two entries of one type', '  a: [{ type: A, value: 192.0.2.1 }, { type: A, value: 192.0.2.2 }]\n'],
    ['an unknown type', '  a: { type: BOGUS, value: x }\n'],
    ['an unknown key', '  a: { type: A, value: 192.0.2.1, weight: 3 }\n'],
    ['a bad value', '  a: { type: A, value: 300.1.1.1 }\n'],
    ['a bad TTL', '  a: { type: A, value: 192.0.2.1, ttl: soon }\n'],
    ['value and values', '  a: { type: A, value: 192.0.2.1, values: [192.0.2.2] }\n'],
    ['a list under value', '  a: { type: A, value: [192.0.2.1] }\n'],
    ['SPF (obsolete, a warning)', '  a: { type: SPF, value: "v=spf1 -all" }\n'],
    ['ALIAS', '  a: { type: ALIAS, value: www }\n'],
    ['a refused type', '  a: { type: NSEC, value: "b A" }\n'],
    ['text after a flow mapping', '  a: { type: A, value: 192.0.2.1 } x\n'],
    ['a colon that would make a mapping', '  a: { type: TXT, value: b: c }\n'],
    ['a __proto__ key', '  a: { type: A, value: 192.0.2.1, __proto__: x }\n'],
    ['a sequence item at a deeper indentation', '  a:\n    - { type: A, value: 192.0.2.1 }\n      - x\n'],
  ];
  for (const [what, body] of cases) {
    it(`gives up on ${what}, and the zone (or its error at its line) is the generic path's`, () => {
      expect(read(body)).toBeUndefined();
      const text = `${HEADER}records:\n  first: { type: A, value: 192.0.2.100 }\n${body}`;
      expect(outcome(text, SLICED)).toEqual(outcome(text, WHOLE));
    });
  }

  it('reports an error in a slice it gave up on at its line in the file', () => {
    const text = `${HEADER}records:\n${ACCEPTED}  bad: { type: A, value: 300.1.1.1 }\n`;
    const e = thrown(() => parseZoneFile(FILE, text, SLICED)) as ZoneFileError;
    expect(e).toBeInstanceOf(ZoneFileError);
    expect(e.line).toBe(text.split('\n').length - 1);
    expect(e.message).toMatch(/^zones\/example\.org\.yaml:\d+: bad A: /);
    expect(e.message).toBe((thrown(() => parseZoneFile(FILE, text, WHOLE)) as Error).message);
  });

  it('leaves an owner repeated from an earlier slice to the generic path (a duplicate key error at its line)', () => {
    const text = `${HEADER}records:\n${ACCEPTED}  mail: { type: TXT, value: again }\n`;
    const e = thrown(() => parseZoneFile(FILE, text, SLICED)) as ZoneFileError;
    expect(e.reason).toMatch(/duplicate key "mail"/);
    expect(e.line).toBe(text.split('\n').length - 1);
  });
});

describe('records reader: random edits of valid lines', () => {
  // A seeded generator of small record bodies with characters that matter to YAML put in random places: whatever
  // comes out, the sliced parse gives the same zone or the same error with the reader as without it. (Without it,
  // the sliced parse agrees with the whole document but for some broken files, where the error differs: a line
  // cut off into a slice of its own reads as a scalar there; large.test.ts covers what it promises.)
  it('the sliced parse agrees with the generic sliced parse on 3000 mutated bodies', () => {
    let seed = Number(process.env.READER_FUZZ_SEED ?? 7);
    const rounds = Number(process.env.READER_FUZZ_ROUNDS ?? 3000);
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const entries = sliceRecords(`${HEADER}records:\n${ACCEPTED}`, 1)!.slices.map((x) => x.text);
    const bits = [':', ': ', ' #', '#', "'", '"', '- ', '-', ' ', '  ', '{', '}', '[', ']', ',', '\\', '~', 'null', '&a ', '*a', '!', '|', '?', '@', '%', '\n', '\n  ', '\n    ', 'x', '0', '.'];
    let accepted = 0;
    for (let round = 0; round < rounds; round++) {
      let body = '';
      const n = 1 + rnd(3);
      for (let i = 0; i < n; i++) body += entries[rnd(entries.length)];
      for (let k = rnd(4) - 1; k >= 0; k--) {
        const at = rnd(body.length);
        body = body.slice(0, at) + bits[rnd(bits.length)] + body.slice(at + (rnd(3) === 0 ? 1 : 0));
      }
      const text = `${HEADER}records:\n  first: { type: A, value: 192.0.2.100 }\n${body}`;
      if (read(body)) accepted++;
      expect(outcome(text, SLICED), body).toEqual(outcome(text, SLICED_GENERIC));
    }
    expect(accepted).toBeGreaterThan(rounds / 5);
  });
});
