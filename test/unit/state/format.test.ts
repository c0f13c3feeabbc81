// Issue 13: an admin change touches only the lines of what it changes. A zone file written by hand (flow lists
// with odd spacing, flow maps, aligned trailing comments, a long TXT string, quoted keys, comments between
// owners) goes through each kind of change with the real manager; the file before and after is diffed line
// by line and must differ in exactly the expected lines, and the new file must load to the intended zone.
// Variants: with `records:` and as a plain octoDNS file (owners at the top level); LF with a final newline
// and CRLF without one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { parseZoneFile } from '../../../src/config/zonefile.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { applyEdits, type RrsetEdit, type ZoneEdit } from '../../../src/state/yamledit.js';

const origin = Name.fromText('fmt.test.');
const LONG = 'v=DKIM1; k=rsa; p=' + 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu'.repeat(5);

const HEAD = [
  '# Written by hand and kept in git: admin changes must not reformat it.',
  'zone:',
  '  ttl: 3600                      # default TTL',
  '  soa: { mname: ns1.fmt.test., rname: hostmaster.fmt.test., serial: 100, minimum: 300 }',
  '  nameservers: [ns1.fmt.test.,   ns2.fmt.test.]',
  '  multi_provider: false          # our NS only',
  '  dnssec:',
  '    enabled: true                # signed',
  '    multi_signer: false          # one signer for now',
  '',
];
// The records section as written under `records:` (owners indented by 2).
const OWNERS = [
  "  '':",
  '    - type: A',
  '      values: [192.0.2.1,   192.0.2.2]       # spacing kept',
  '    - type: MX',
  '      values:',
  '        - { preference: 10, exchange: mail }             # relative name',
  '        - { preference: 20, exchange: mx.example.net. }',
  '    - type: TXT',
  '      values:',
  '        - "v=spf1 mx -all"',
  `        - ${LONG.replace(/;/g, '\\;')}`,
  '',
  '  # Hosts',
  '  "www":   { type: A, value: 192.0.2.10 }    # quoted key',
  '  mail:    { type: A, value: 192.0.2.25 }    # aligned comment',
  '  ns1:',
  '    - { type: A, value: 192.0.2.53 }',
  '  ns2: {type: A, value: 192.0.2.54}',
  '  # a comment between owners',
  '  alias:',
  '    type: CNAME',
  '    value: www',
  "  gone: { type: TXT, value: 'only one' }",
  '  api:',
  '    type: A',
  '    ttl: 300',
  '    values:',
  '      - 192.0.2.80',
  '      - 192.0.2.81   # second',
];

interface Variant {
  name: string;
  plain: boolean;
  crlf: boolean;
}
const VARIANTS: Variant[] = [
  { name: 'records:, LF, final newline', plain: false, crlf: false },
  { name: 'records:, CRLF, no final newline', plain: false, crlf: true },
  { name: 'plain octoDNS, LF, final newline', plain: true, crlf: false },
  { name: 'plain octoDNS, CRLF, no final newline', plain: true, crlf: true },
];

/** A line of the records section as the variant writes it (a plain octoDNS file has owners at column 0). */
const own = (v: Variant) => (l: string) => (v.plain ? l.replace(/^ {2}/, '') : l);
function fileText(v: Variant): string {
  const lines = [...HEAD, ...(v.plain ? [] : ['records:']), ...OWNERS.map(own(v))];
  const eol = v.crlf ? '\r\n' : '\n';
  return lines.join(eol) + (v.crlf ? '' : eol);
}

/**
 * Lines only in `a` and only in `b` (longest common subsequence), in order. Lines compare without their CR:
 * the last line of a file without a final newline gains a line ending when a line is added after it, as in
 * any editor; that the file still has no final newline is checked apart.
 */
function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const x = a.split(/\r?\n/);
  const y = b.split(/\r?\n/);
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) (i++, j++);
    else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) added.push(y[j++]);
    else removed.push(x[i++]);
  }
  return { removed, added };
}

const records = (text: string) =>
  parseZoneFile('fmt.test.yaml', text, { mtime: new Date(0) }).input.records
    .filter((r) => r.type !== RRType.SOA)
    .map((r) => `${r.name} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`)
    .sort();
const rr = (name: string, type: keyof typeof RRType, text: string, ttl = 3600) => {
  const n = Name.fromText(name, origin);
  const rdata = parseRdata(RRType[type], text, origin);
  return { input: { name: n, type: RRType[type], ttl, rdata }, line: `${n} ${RRType[type]} ${ttl} ${Buffer.from(rdata).toString('hex')}` };
};

let dir: string;
let zonesDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-fmt-'));
  zonesDir = join(dir, 'zones');
  await mkdir(zonesDir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function open(v: Variant): Promise<{ m: TandemZoneManager; id: string; before: string }> {
  const before = fileText(v);
  await writeFile(join(zonesDir, 'fmt.test.yaml'), before);
  const { manager, errors } = await TandemZoneManager.open({
    zonesDir, stateDir: join(dir, 'state'), clock: { now: () => 1_700_000_000 }, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 100 }),
  });
  expect(errors).toEqual([]);
  return { m: manager, id: manager.zoneByName(origin)!.id, before };
}

/** The serial line before and after `changes` bumps (RFC 1982: each change increases it). */
const serial = (changes: number) => ({
  zoneRemoved: ['  soa: { mname: ns1.fmt.test., rname: hostmaster.fmt.test., serial: 100, minimum: 300 }'],
  zoneAdded: [`  soa: { mname: ns1.fmt.test., rname: hostmaster.fmt.test., serial: ${100 + changes}, minimum: 300 }`],
});

/**
 * Runs `change`, then checks: exactly `removed`/`added` lines differ (record lines as under `records:`,
 * zone lines as given), the line endings and final newline are the variant's, and the file loads to the
 * records before minus `gone` plus `plus`.
 */
async function expectChange(
  v: Variant,
  change: (m: TandemZoneManager, id: string) => Promise<unknown>,
  want: { removed: string[]; added: string[]; zoneRemoved?: string[]; zoneAdded?: string[]; gone?: string[]; plus?: string[] },
): Promise<string> {
  const { m, id, before } = await open(v);
  await change(m, id);
  const after = await readFile(join(zonesDir, 'fmt.test.yaml'), 'utf8');
  const d = lineDiff(before, after);
  expect(d.removed).toEqual([...(want.zoneRemoved ?? []), ...want.removed.map(own(v))]);
  expect(d.added).toEqual([...(want.zoneAdded ?? []), ...want.added.map(own(v))]);
  if (v.crlf) {
    expect(after).not.toMatch(/[^\r]\n/);
    expect(after.endsWith('\n')).toBe(false);
  } else {
    expect(after).not.toContain('\r');
    expect(after.endsWith('\n')).toBe(true);
  }
  const expected = records(before).filter((r) => !(want.gone ?? []).includes(r)).concat(want.plus ?? []).sort();
  expect(records(after)).toEqual(expected);
  return after;
}

describe.each(VARIANTS)('an admin change touches only its own lines ($name)', (v) => {
  it('a value added to an RRset: the flow map line, or one new list item; plus the serial', async () => {
    const www = rr('www', 'A', '192.0.2.11');
    const api = rr('api', 'A', '192.0.2.82', 300);
    await expectChange(v, async (m, id) => {
      await m.createRecord(id, www.input);
      await m.createRecord(id, api.input);
    }, {
      ...serial(2),
      removed: ['  "www":   { type: A, value: 192.0.2.10 }    # quoted key'],
      added: ['  "www":   { type: A, values: [192.0.2.10, 192.0.2.11] } # quoted key', '      - 192.0.2.82'],
      plus: [www.line, api.line],
    });
  });

  it('a value added to the apex TXT leaves the long TXT string unfolded and untouched', async () => {
    const txt = rr('@', 'TXT', '"added, with: a comma # and hash"');
    const after = await expectChange(v, (m, id) => m.createRecord(id, txt.input), {
      ...serial(1),
      removed: [],
      added: ["        - 'added, with: a comma # and hash'"],
      plus: [txt.line],
    });
    expect(after).toContain(LONG.replace(/;/g, '\\;'));
  });

  it('a new type at an owner written as one flow map makes it a list; at a block map, the map moves under a `-`', async () => {
    const aaaa = rr('www', 'AAAA', '2001:db8::10');
    const txt = rr('api', 'TXT', '"api"', 300);
    await expectChange(v, async (m, id) => {
      await m.createRecord(id, aaaa.input);
      await m.createRecord(id, txt.input);
    }, {
      ...serial(2),
      removed: [
        '  "www":   { type: A, value: 192.0.2.10 }    # quoted key',
        '    type: A', '    ttl: 300', '    values:', '      - 192.0.2.80', '      - 192.0.2.81   # second',
      ],
      added: [
        '  "www":', '    - { type: A, value: 192.0.2.10 }    # quoted key', '    - { type: AAAA, value: 2001:db8::10 }',
        '    - type: A', '      ttl: 300', '      values:', '        - 192.0.2.80', '        - 192.0.2.81   # second',
        '    - { type: TXT, ttl: 300, value: api }',
      ],
      plus: [aaaa.line, txt.line],
    });
  });

  it('a new owner is one line after the last owner', async () => {
    const a = rr('new', 'A', '192.0.2.90');
    const b = rr('*.wild', 'TXT', '"x"', 60);
    await expectChange(v, async (m, id) => {
      await m.createRecord(id, a.input);
      await m.createRecord(id, b.input);
    }, {
      ...serial(2),
      removed: [],
      added: ['  new: { type: A, value: 192.0.2.90 }', "  '*.wild': { type: TXT, ttl: 60, value: x }"],
      plus: [a.line, b.line],
    });
  });

  it('deleting one value: from a flow list (the comment keeps its column), a list item, a structured MX', async () => {
    const a = rr('@', 'A', '192.0.2.1');
    const api = rr('api', 'A', '192.0.2.81', 300);
    const mx = rr('@', 'MX', '20 mx.example.net.');
    await expectChange(v, async (m, id) => {
      for (const x of [a, api, mx]) {
        const r = m.records(id).find((y) => y.type === x.input.type && y.name.equals(x.input.name) && Buffer.compare(y.rdata, x.input.rdata) === 0)!;
        await m.deleteRecord(id, r.id);
      }
    }, {
      ...serial(3),
      removed: ['      values: [192.0.2.1,   192.0.2.2]       # spacing kept', '        - { preference: 20, exchange: mx.example.net. }', '      - 192.0.2.81   # second'],
      added: ['      values: [192.0.2.2]' + ' '.repeat(20) + '# spacing kept'],
      gone: [a.line, api.line, mx.line],
    });
  });

  it('deleting the last value of an owner removes its lines; the comments around stay', async () => {
    const gone = rr('gone', 'TXT', '"only one"');
    const mail = rr('mail', 'A', '192.0.2.25');
    const alias = rr('alias', 'CNAME', 'www');
    await expectChange(v, async (m, id) => {
      for (const x of [gone, mail, alias]) {
        const r = m.records(id).find((y) => y.type === x.input.type && y.name.equals(x.input.name))!;
        await m.deleteRecord(id, r.id);
      }
    }, {
      ...serial(3),
      removed: ['  mail:    { type: A, value: 192.0.2.25 }    # aligned comment', '  alias:', '    type: CNAME', '    value: www', "  gone: { type: TXT, value: 'only one' }"],
      added: [],
      gone: [gone.line, mail.line, alias.line],
    });
  });

  it('a TTL change rewrites the ttl value, or adds `ttl:` to a flow map', async () => {
    const www = rr('www', 'A', '192.0.2.10', 60);
    const api = [rr('api', 'A', '192.0.2.80', 600), rr('api', 'A', '192.0.2.81', 600)];
    await expectChange(v, async (m, id) => {
      const w = m.records(id).find((y) => y.type === RRType.A && y.name.equals(www.input.name))!;
      await m.updateRecord(id, w.id, www.input);
      const a = m.records(id).find((y) => y.type === RRType.A && y.name.equals(api[0].input.name))!;
      await m.updateRecord(id, a.id, api[0].input);
    }, {
      ...serial(2),
      removed: ['  "www":   { type: A, value: 192.0.2.10 }    # quoted key', '    ttl: 300'],
      added: ['  "www":   { type: A, ttl: 60, value: 192.0.2.10 } # quoted key', '    ttl: 600'],
      gone: [rr('www', 'A', '192.0.2.10').line, rr('api', 'A', '192.0.2.80', 300).line, rr('api', 'A', '192.0.2.81', 300).line],
      plus: [www.line, ...api.map((x) => x.line)],
    });
  });

  it('PATCH dnssec changes its setting\'s value (comment column kept) and adds a missing one as one line; no serial bump', async () => {
    await expectChange(v, (m, id) => m.patchDnssec(id, { multiSigner: true, useNsec3: true }), {
      zoneRemoved: ['    multi_signer: false          # one signer for now'],
      zoneAdded: ['    multi_signer: true           # one signer for now', '    denial: nsec3'],
      removed: [], added: [],
    });
  });

  it('multi_provider changes one line', async () => {
    await expectChange(v, (m, id) => m.patchDnsSettings(id, { multiProvider: true }), {
      zoneRemoved: ['  multi_provider: false          # our NS only'],
      zoneAdded: ['  multi_provider: true           # our NS only'],
      removed: [], added: [],
    });
  });
});

describe('sliced and whole-document edits give the same text', () => {
  it('for every kind of edit of the formatted file', () => {
    const text = fileText(VARIANTS[1]);
    const o = 'fmt.test.';
    const A = (owner: string, ttl: number, ...ips: string[]): RrsetEdit => ({ op: 'rrset', owner, type: RRType.A, ttl, defaultTtl: 3600, rdatas: ips.map((ip) => parseRdata(RRType.A, ip, origin)) });
    const edits: ZoneEdit[] = [
      A('www.fmt.test.', 3600, '192.0.2.10', '192.0.2.11'), A('api.fmt.test.', 300), A('mail.fmt.test.', 3600), A('ns2.fmt.test.', 60, '192.0.2.54'),
      { ...A('new.fmt.test.', 3600, '192.0.2.99'), isNew: true }, { op: 'setting', path: ['dnssec', 'multi_signer'], value: true }, { op: 'serial' },
    ];
    const whole = applyEdits(text, o, edits, { sliceFromBytes: Infinity });
    const sliced = applyEdits(text, o, edits, { sliceFromBytes: 0, sliceLines: 3 });
    expect(sliced).toBe(whole);
    expect(lineDiff(text, whole).removed).toHaveLength(11); // serial, multi_signer, www, ns2, mail and api's 6 lines
  });
});
