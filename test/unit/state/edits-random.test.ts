// Random admin edits of formatted zone files (the shipped demo zone's shapes and the format test's): after
// any sequence of RRset edits the file must read back as exactly the intended records, every record not
// edited unchanged (STYLE habit 15: the seed is in the test name; FUZZ_SEED=<seed> replays it).
import { describe, expect, it } from 'vitest';
import { parseZoneFile } from '../../../src/config/zonefile.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { applyEdits, type RrsetEdit } from '../../../src/state/yamledit.js';
import { rng } from '../../helpers/random.js';

const ORIGIN = 'rnd.test.';
const origin = Name.fromText(ORIGIN);
const FILE = `# random edits
zone:
  ttl: 3600
  soa: { mname: ns1.rnd.test., rname: h.rnd.test., serial: 1 }   # flow
  nameservers: [ns1.rnd.test.]
records:
  '':
    - type: A
      values: [192.0.2.1,   192.0.2.2]      # odd spacing
    - type: MX
      values:
        - { preference: 10, exchange: mail }          # relative
        - '20 mx.example.net.'
    - type: TXT
      value: "v=spf1 -all"
  ns1: { type: A, value: 127.0.0.1 }   # ours
  "quoted":
    type: TXT
    ttl: 60
    values:
      - one
      - 'two, three'   # comma
  # between
  flow: [{ type: A, value: 192.0.2.9 }, { type: TXT, value: x }]
  block:
    - type: AAAA
      value: '2001:db8::1'
    - { type: TXT, values: [a, b] }
  seq1:
    - { type: A, value: 192.0.2.77 }
`;

type Rec = { owner: string; type: number; ttl: number; hex: string };
const load = (text: string): Rec[] =>
  parseZoneFile('rnd.test.yaml', text, { mtime: new Date(0) }).input.records
    .filter((r) => r.type !== RRType.SOA)
    .map((r) => ({ owner: r.name.key, type: r.type, ttl: r.ttl, hex: Buffer.from(r.rdata).toString('hex') }));
const line = (r: Rec) => `${r.owner} ${r.type} ${r.ttl} ${r.hex}`;

const OWNERS = ['rnd.test.', 'ns1.rnd.test.', 'quoted.rnd.test.', 'flow.rnd.test.', 'block.rnd.test.', 'seq1.rnd.test.', 'new.rnd.test.', '*.w.rnd.test.'];
const VALUES: Record<number, string[]> = {
  [RRType.A]: ['192.0.2.1', '192.0.2.2', '192.0.2.9', '192.0.2.77', '198.51.100.1', '127.0.0.1'],
  [RRType.AAAA]: ['2001:db8::1', '2001:db8::2'],
  [RRType.TXT]: ['"one"', '"two, three"', '"x"', '"a"', '"b"', '"v=spf1 -all"', '"it\'s: # not a comment"', '"3600"', `"${'long '.repeat(60)}"`],
  [RRType.MX]: ['10 mail.rnd.test.', '20 mx.example.net.', '30 mx3.example.org.'],
};

describe('random RRset edits read back exactly', () => {
  for (const crlf of [false, true]) {
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31)); // replay: FUZZ_SEED=<seed>
    it(`seed ${seed}${crlf ? ', CRLF, no final newline' : ''}`, () => {
      const rand = rng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
      let text = crlf ? FILE.replace(/\n/g, '\r\n').replace(/\r\n$/, '') : FILE;
      for (let step = 0; step < 60; step++) {
        const before = load(text);
        const edits: RrsetEdit[] = [];
        const n = 1 + Math.floor(rand() * 3);
        for (let i = 0; i < n; i++) {
          const owner = pick(OWNERS);
          const type = Number(pick(Object.keys(VALUES)));
          if (edits.some((e) => Name.fromText(e.owner).key === Name.fromText(owner).key && e.type === type)) continue;
          // CNAME-free types only, so every combination is a valid zone.
          const values = VALUES[type].filter(() => rand() < 0.35);
          const ttl = rand() < 0.7 ? (before.find((r) => r.owner === owner && r.type === type)?.ttl ?? 3600) : pick([60, 300, 3600]);
          edits.push({ op: 'rrset', owner, type, ttl, defaultTtl: 3600, rdatas: values.map((v) => parseRdata(type, v, origin)), isNew: !before.some((r) => r.owner === owner) });
        }
        const next = applyEdits(text, ORIGIN, edits, rand() < 0.5 ? { sliceFromBytes: 0, sliceLines: 3 } : {});
        const touched = (r: Rec) => edits.some((e) => Name.fromText(e.owner).key === r.owner && e.type === r.type);
        const want = [
          ...before.filter((r) => !touched(r)),
          ...edits.flatMap((e) => e.rdatas.map((rd) => ({ owner: Name.fromText(e.owner).key, type: e.type, ttl: e.ttl, hex: Buffer.from(rd).toString('hex') }))),
        ].map(line).sort();
        expect(load(next).map(line).sort(), `seed ${seed} step ${step}\n${next}`).toEqual(want);
        if (crlf) expect(!/[^\r]\n/.test(next) && !next.endsWith('\n'), `line endings, seed ${seed} step ${step}`).toBe(true);
        text = next;
      }
    });
  }
});
