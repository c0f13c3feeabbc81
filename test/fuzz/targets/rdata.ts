// Fuzz targets for the record codecs: every RDATA type round-trips wire -> text -> wire and text -> wire -> text
// (dns/rdata.ts), as a master-file line (dns/zonetext.ts -> config/masterfile.ts) and inside a message
// (dns/writer.ts -> dns/reader.ts); encodeResponse keeps its size limit and never splits an RRset (RFC 2181 §9).
import fc from 'fast-check';
import { Name, NameError } from '../../../src/dns/name.js';
import { canonicalRdata, checkRdata, formatRdata, parseRdata, RdataError } from '../../../src/dns/rdata.js';
import { readMessage } from '../../../src/dns/reader.js';
import type { Rr } from '../../../src/dns/rr.js';
import { RRClass, RRType } from '../../../src/dns/types.js';
import { encodeMessage, encodeResponse } from '../../../src/dns/writer.js';
import { rrLine } from '../../../src/dns/zonetext.js';
import { parseMasterFile } from '../../../src/config/masterfile.js';
import { RDATA, name, nameIn, record, typedRdata, ZONE } from '../arbitraries.js';
import { target } from '../target.js';

function fail(why: string): never {
  throw new Error(why);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Presentation-text pieces: what RDATA text is made of, valid or not. */
const token = fc.oneof(
  fc.constantFrom('0', '1', '3', '13', '65535', '65536', '4294967296', '-1', '1h30m', '20260101000000', '20261399000000', '@', '.', 'a', 'www.example.com.',
    'ns1', '"', '""', '"a b"', '"\\"', '"\\256"', '\\#', '\\# 0', '(', ')', ';', 'AA==', 'AAA', 'A===', 'a b', '-', 'DEADBEEF', 'abc', 'alpn=h2,h3',
    'port=53', 'key65535=1', 'mandatory=alpn', 'ipv4hint=1.2.3.4', 'ipv6hint=::1', 'no-default-alpn', 'ech="AAA="', 'A', 'TYPE1', 'TYPE65535', 'issue',
    '1.2.3.4', '::1', '::ffff:1.2.3.4', '256.1.1.1', '1::2::3', 'zz', '\\065', '\\;', 'é'),
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[A-Za-z0-9+/]{0,12}={0,2}$/),
);
const presentation = fc.oneof(
  { weight: 3, arbitrary: fc.array(token, { maxLength: 8 }).map((ts) => ts.join(' ')) },
  { weight: 3, arbitrary: typedRdata.chain(({ type, rdata }) => fc.tuple(fc.constant(formatRdata(type, rdata)), fc.nat(), fc.string({ maxLength: 3 }))
    .map(([t, at, s]) => { const i = at % (t.length + 1); return t.slice(0, i) + s + t.slice(i + (at % 3)); })) },
);

type TextCase = { type: number; text: string };

export const rdataTarget = target<{ rr: Rr } | TextCase>({
  name: 'rdata',
  about: 'dns/rdata.ts, dns/zonetext.ts: every RDATA type wire -> text -> wire and text -> wire -> text, as a master-file line and in a message',
  weight: 4,
  prepare: () => ({
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: record(nameIn(ZONE)).map((rr) => ({ rr })) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...RDATA.keys(), 65400), presentation).map(([type, text]) => ({ type, text })) },
    ),
    check(c) {
      if ('rr' in c) wireFirst(c.rr);
      else textFirst(c);
    },
  }),
});

function wireFirst(rr: Rr): void {
  const { type, rdata } = rr;
  let valid = true;
  try {
    checkRdata(type, rdata);
  } catch (e) {
    if (!(e instanceof RdataError)) throw e;
    valid = false;
  }
  const text = formatRdata(type, rdata);
  if (!valid && !text.startsWith('\\#')) fail(`malformed RDATA printed as ${text}, not in the RFC 3597 form`);
  let back: Uint8Array;
  try {
    back = parseRdata(type, text, Name.ROOT);
  } catch (e) {
    if (!valid && e instanceof RdataError) return; // the \# form of a known type is checked, so it fails as the wire did
    throw new Error(`type ${type} ${hex(rdata)} printed as ${JSON.stringify(text)}, which does not parse: ${(e as Error).message}`);
  }
  if (!same(back, rdata)) fail(`type ${type}: wire -> ${JSON.stringify(text)} -> wire changed ${hex(rdata)} to ${hex(back)}`);
  if (formatRdata(type, back) !== text) fail(`type ${type}: text -> wire -> text changed ${JSON.stringify(text)}`);
  const canon = canonicalRdata(type, rdata);
  if (canon.length !== rdata.length || !same(canonicalRdata(type, canon), canon)) fail('canonical form changes length or is not idempotent');

  // A master-file line (tandem dump, a secondary's saved copy) reads back as the same record.
  const line = rrLine(rr);
  const parsed = parseMasterFile('fuzz.zone', `${line}\n`, { origin: Name.ROOT, readText: () => { throw new Error('no includes'); } });
  const got = parsed.records[0];
  if (parsed.records.length !== 1 || !got.name.equals(rr.name) || got.type !== type || got.ttl !== rr.ttl || !same(got.rdata, rdata)) {
    fail(`master-file line ${JSON.stringify(line)} reads back as something else`);
  }

  // In a message, names may be compressed (RFC 1035 types) and come back in another case only.
  const msg = encodeMessage({ id: 1, qr: true, opcode: 0, answer: [rr] });
  const r = readMessage(msg);
  if (!r.ok) fail(`the reader refuses the writer's message: ${r.error.reason}`);
  const a = r.message.answer[0];
  if (!a || !same(canonicalRdata(type, a.rdata), canon)) fail(`type ${type} RDATA changed through the message writer and reader`);
}

function textFirst({ type, text }: TextCase): void {
  let wire: Uint8Array;
  try {
    wire = parseRdata(type, text, ZONE);
  } catch (e) {
    if (e instanceof RdataError || e instanceof NameError) return;
    throw e;
  }
  checkRdata(type, wire);
  const t1 = formatRdata(type, wire);
  const w2 = parseRdata(type, t1, Name.ROOT);
  if (!same(w2, wire)) fail(`type ${type}: ${JSON.stringify(text)} -> ${JSON.stringify(t1)} reads back as other octets`);
  if (formatRdata(type, w2) !== t1) fail(`type ${type}: printing is not stable for ${JSON.stringify(t1)}`);
}

type ResponseCase = { answer: Rr[]; authority: Rr[]; additional: Rr[]; required: Rr[]; limit: number; edns: boolean; question: { name: Name; type: number; class: number } };

const rrset = fc.tuple(nameIn(ZONE), typedRdata, fc.integer({ min: 1, max: 6 })).chain(([owner, { type }, n]) =>
  fc.array(RDATA.get(type) ?? fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: n }).map((rdatas) => rdatas.map((rdata) => ({ name: owner, type, class: RRClass.IN, ttl: 300, rdata }))));
/** Zone data is validated when it loads, so the writer is handed valid RDATA only. */
const isValid = (rr: Rr) => {
  try { checkRdata(rr.type, rr.rdata); return true; } catch (e) { if (e instanceof RdataError) return false; throw e; }
};
const section = fc.array(rrset, { maxLength: 4 }).map((sets) => sets.flat().filter(isValid));

export const writerTarget = target<ResponseCase>({
  name: 'writer',
  about: 'dns/writer.ts encodeResponse: within the size limit, readable, TC=1 instead of a partial answer, whole additional RRsets only (RFC 2181 §9)',
  weight: 2,
  prepare: () => ({
    arbitrary: fc.record({
      answer: section, authority: section, additional: section, required: fc.array(rrset, { maxLength: 1 }).map((s) => s.flat().filter(isValid)),
      limit: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constantFrom(512, 1232, 65535, Infinity, NaN)), edns: fc.boolean(),
      question: fc.record({ name, type: fc.nat(0xffff), class: fc.constant(1) }),
    }),
    check(c) {
      const out = encodeResponse({
        id: 7, opcode: 0, aa: true, rd: false, cd: false, rcode: 0, question: c.question, answer: c.answer, authority: c.authority,
        additional: c.additional, requiredAdditional: c.required, ...(c.edns ? { edns: { udpSize: 1232, do: true, co: false, options: [] } } : {}),
      }, c.limit);
      const max = Number.isFinite(c.limit) ? Math.min(65535, Math.max(512, Math.floor(c.limit))) : 512;
      if (out.length > max) fail(`${out.length} octets over the limit of ${max}`);
      const r = readMessage(out);
      if (!r.ok) fail(`the reader refuses the response: ${r.error.reason}`);
      const m = r.message;
      if (m.tc) {
        if (m.answer.length || m.authority.length) fail('TC=1 with records in the answer or authority section');
        return;
      }
      if (m.answer.length !== c.answer.length || m.authority.length !== c.authority.length) fail('records dropped without TC=1');
      if (m.additional.length < c.required.length) fail('required additional records dropped without TC=1');
      // Optional RRsets (with their RRSIGs) come whole or not at all.
      const group = (x: Rr) => `${x.name.key}/${x.type === RRType.RRSIG && x.rdata.length >= 2 ? (x.rdata[0] << 8) | x.rdata[1] : x.type}`;
      const sent = new Map<string, number>();
      for (const x of c.additional) sent.set(group(x), (sent.get(group(x)) ?? 0) + 1);
      const got = new Map<string, number>();
      for (const x of m.additional.slice(c.required.length)) got.set(group(x), (got.get(group(x)) ?? 0) + 1);
      for (const [k, n] of got) if (n !== sent.get(k)) fail(`additional RRset ${k}: ${n} of its ${sent.get(k)} records sent`);
    },
  }),
});
