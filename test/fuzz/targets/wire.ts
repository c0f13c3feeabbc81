// Fuzz targets for what comes off the network: the hot-path query parser (dns/query.ts), the general message
// reader (dns/reader.ts), the name codec (dns/name.ts) and TSIG verification (dns/tsig.ts). Inputs are random
// bytes and byte-edited valid messages; parseQuery and readMessage are also checked against each other.
import fc from 'fast-check';
import { Name, NameError, parentKey } from '../../../src/dns/name.js';
import { parseQuery, skipName } from '../../../src/dns/query.js';
import { readMessage } from '../../../src/dns/reader.js';
import { canonicalRdata } from '../../../src/dns/rdata.js';
import { Keyring, signRequest, verifyRequest, type TsigKey } from '../../../src/dns/tsig.js';
import { encodeMessage, encodeQuery } from '../../../src/dns/writer.js';
import { edit, label, mutate, mutated, name, nameIn, nameText, record, ZONE } from '../arbitraries.js';
import { target } from '../target.js';

function fail(why: string): never {
  throw new Error(why);
}

const option = fc.record({ code: fc.nat(0xffff), data: fc.uint8Array({ maxLength: 12 }) });

/** A query as clients send it: question, OPT with flags and options, sometimes the class or opcode changed. */
const query = fc.record({
  name: nameIn(ZONE), type: fc.nat(0xffff), id: fc.nat(0xffff), edns: fc.boolean(), do: fc.boolean(), co: fc.boolean(),
  udpSize: fc.nat(0xffff), options: fc.array(option, { maxLength: 3 }), opcode: fc.constantFrom(0, 0, 0, 4, 5, 1, 15),
  class: fc.constantFrom(1, 1, 3, 255),
}).map((q) => encodeQuery(q.name, q.type, { id: q.id, edns: q.edns, do: q.do, co: q.co, udpSize: q.udpSize, options: q.options, opcode: q.opcode, class: q.class }));

/** Any message: question and records in all three sections (names compressed by the writer). */
const message = fc.record({
  id: fc.nat(0xffff), qr: fc.boolean(), opcode: fc.constantFrom(0, 4, 5),
  question: fc.option(fc.record({ name: nameIn(ZONE), type: fc.nat(0xffff), class: fc.constant(1) }), { nil: undefined }),
  answer: fc.array(record(nameIn(ZONE)), { maxLength: 4 }),
  authority: fc.array(record(nameIn(ZONE)), { maxLength: 2 }),
  additional: fc.array(record(nameIn(ZONE)), { maxLength: 2 }),
}).map((m) => encodeMessage(m));

const KEY: TsigKey = { name: Name.fromText('xfr-key.'), algorithm: 'hmac-sha256', secret: new Uint8Array(32).fill(7) };
const NOW = 1_750_000_000;
const signed = query.map((q) => signRequest(q, KEY, NOW).wire);

/** Wire input for the message parsers: random bytes (mostly with QR clear), or edited queries and messages. */
const packet: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map((b) => { if (b.length > 2 && b[0] % 4 !== 0) b[2] &= 0x7f; return b; }) },
  { weight: 4, arbitrary: mutated(query) },
  { weight: 3, arbitrary: mutated(message) },
  { weight: 2, arbitrary: mutated(signed) },
);

const QUERY_EXAMPLES: Uint8Array[] = [
  new Uint8Array(0),
  new Uint8Array(12),
  // A question whose name is a compression pointer to itself, and one to the header.
  Uint8Array.of(0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1),
  Uint8Array.of(0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 1, 0, 1),
  // 65535 questions announced, one present.
  Uint8Array.of(0, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1),
  // Every count at its maximum and nothing after the header.
  Uint8Array.of(0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
];

export const parseQueryTarget = target<Uint8Array>({
  name: 'query',
  about: 'dns/query.ts parseQuery: never throws; drop, reply or a query that agrees with dns/reader.ts',
  weight: 3,
  prepare: () => ({
    arbitrary: packet,
    examples: QUERY_EXAMPLES,
    check(buf) {
      const r = parseQuery(buf);
      if (buf.length < 12 || buf[2] & 0x80) {
        if (r.ok || r.action !== 'drop') fail('a message shorter than a header, or a response, must be dropped');
        return;
      }
      if (!r.ok) {
        if (r.action === 'drop') fail('only short messages and responses are dropped');
        return;
      }
      const q = r.query;
      if (q.size !== buf.length) fail(`size ${q.size}, message ${buf.length}`);
      if (q.name.wireLength > 255) fail('question name over 255 octets');
      // The general reader must see the same question and EDNS in a message parseQuery accepts.
      const m = readMessage(buf, { skipRecords: true });
      if (m.ok) {
        const rq = m.message.question[0];
        if (!rq || !rq.name.equals(q.name) || rq.type !== q.type || rq.class !== q.class) fail('readMessage reads another question');
        if (!!m.message.opt !== !!q.edns) fail('readMessage and parseQuery disagree about the OPT record');
        if (q.edns && m.message.opt && (q.edns.do !== m.message.opt.do || q.edns.version !== m.message.opt.version)) fail('EDNS flags differ');
      }
    },
  }),
});

export const readerTarget = target<Uint8Array>({
  name: 'reader',
  about: 'dns/reader.ts readMessage: never throws; bounded output; read -> write (writer.ts) -> read gives the same records',
  weight: 3,
  prepare: () => ({
    arbitrary: packet,
    // Found by seed 1762759103: an UPDATE-style class ANY record with empty RDATA of a type whose names are lower-cased.
    examples: [...QUERY_EXAMPLES, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 120, 0, 0, 21, 0, 255, 0, 0, 0, 0, 0, 0)],
    check(buf) {
      const r = readMessage(buf);
      if (!r.ok) {
        if (r.error.offset < 0 || r.error.offset > buf.length) fail(`error offset ${r.error.offset} outside the message`);
        return;
      }
      const m = r.message;
      const rrs = [...m.answer, ...m.authority, ...m.additional];
      // Memory: every question needs 5 octets and every record 11; a name pointer expands to at most 255 octets.
      if (m.question.length * 5 + rrs.length * 11 > buf.length) fail('more questions and records than the octets can hold');
      const expanded = rrs.reduce((n, rr) => n + rr.rdata.length + rr.name.wireLength, 0);
      if (expanded > 128 * buf.length + 255) fail(`${expanded} octets of records from a ${buf.length}-octet message`);
      if (m.question.length > 1) return;
      let again: Uint8Array;
      try {
        again = encodeMessage({ id: m.id, qr: m.qr, opcode: m.opcode, question: m.question[0], answer: m.answer, authority: m.authority, additional: m.additional });
      } catch (e) {
        if (e instanceof RangeError && expanded > 65535 - 12) return; // decompressed, it no longer fits one message
        throw e;
      }
      const back = readMessage(again);
      if (!back.ok) fail(`the writer made a message the reader refuses: ${back.error.reason}`);
      const b = back.message;
      const same = (x: typeof rrs, y: typeof rrs) => x.length === y.length && x.every((rr, i) => rr.name.equals(y[i].name) && rr.type === y[i].type &&
        rr.class === y[i].class && rr.ttl === y[i].ttl && Buffer.from(canonicalRdata(rr.type, rr.rdata)).equals(canonicalRdata(y[i].type, y[i].rdata)));
      if (!same(m.answer, b.answer) || !same(m.authority, b.authority) || !same(m.additional, b.additional)) fail('read -> write -> read changed the records');
    },
  }),
});

type NameCase =
  | { kind: 'labels'; labels: Uint8Array[]; other: Uint8Array[] }
  | { kind: 'text'; text: string; relative: boolean }
  | { kind: 'wire'; bytes: Uint8Array; offset: number };

const lower = (b: Uint8Array) => b.map((x) => (x >= 0x41 && x <= 0x5a ? x + 32 : x));
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b);

export const nameTarget = target<NameCase>({
  name: 'name',
  about: 'dns/name.ts: labels -> text -> labels and -> wire -> labels keep every octet; text and wire input only ever fail with NameError',
  weight: 2,
  prepare: () => ({
    arbitrary: fc.oneof(
      fc.record({ kind: fc.constant('labels' as const), labels: fc.array(label, { maxLength: 8 }), other: fc.array(label, { maxLength: 4 }) }),
      fc.record({ kind: fc.constant('text' as const), text: nameText, relative: fc.boolean() }),
      fc.record({ kind: fc.constant('wire' as const), bytes: mutated(name.map((n) => n.wire())), offset: fc.nat(4) }),
    ),
    examples: [{ kind: 'text', text: '\\', relative: false }, { kind: 'text', text: '.'.repeat(300), relative: false }, { kind: 'text', text: 'a\\000.\\046.', relative: true }],
    check(c) {
      if (c.kind === 'labels') {
        let n: Name;
        try {
          n = Name.fromLabels(c.labels);
        } catch (e) {
          if (!(e instanceof NameError)) throw e;
          if (c.labels.reduce((w, l) => w + l.length + 1, 1) <= 255) fail('valid labels refused');
          return;
        }
        const t = Name.fromText(n.toString());
        if (t.labels.length !== n.labels.length || !t.labels.every((l, i) => sameBytes(l, n.labels[i]))) fail(`text ${n} reads back as other labels`);
        if (t.key !== n.key || !t.equals(n) || t.compare(n) !== 0) fail('key, equals or compare differ after the text round trip');
        const w = Name.read(n.wire(), 0);
        if (w.next !== n.wireLength || !w.name.labels.every((l, i) => sameBytes(l, n.labels[i]))) fail('wire round trip changed the name');
        if (!sameBytes(n.canonicalWire(), lower(n.wire()))) fail('canonical wire form is not the lower-cased wire form (RFC 4034 §6.2)');
        if (!n.isRoot() && parentKey(n.key) !== n.parent().key) fail(`parentKey(${n.key}) is not the parent's key`);
        const rel = n.relativeTo(ZONE);
        if (!Name.fromText(rel, ZONE).equals(n)) fail(`relativeTo gives ${rel}, which does not read back`);
        const o = Name.fromLabels(c.other.slice(0, 2));
        const ab = n.compare(o), ba = o.compare(n);
        if (Math.sign(ab) !== -Math.sign(ba) || (ab === 0) !== n.equals(o)) fail('compare is not antisymmetric or disagrees with equals');
        return;
      }
      if (c.kind === 'text') {
        let n: Name;
        try {
          n = Name.fromText(c.text, c.relative ? ZONE : undefined);
        } catch (e) {
          if (e instanceof NameError) return;
          throw e;
        }
        if (n.wireLength > 255 || n.labels.some((l) => l.length === 0 || l.length > 63)) fail('fromText made an invalid name');
        if (!Name.fromText(n.toString()).equals(n)) fail(`${JSON.stringify(c.text)} -> ${n} does not read back`);
        return;
      }
      let read: { name: Name; next: number } | undefined;
      try {
        read = Name.read(c.bytes, c.offset);
      } catch (e) {
        if (!(e instanceof NameError)) throw e;
      }
      const skipped = skipName(c.bytes, c.offset);
      if (read) {
        if (read.name.wireLength > 255) fail('Name.read made a name over 255 octets');
        if (skipped !== read.next) fail(`skipName ends at ${skipped}, Name.read at ${read.next}`);
      }
    },
  }),
});

const keyring = new Keyring([KEY]);

/** `original`: the signed request `wire` was edited from (absent for other packets, which only must not throw). */
type TsigCase = { original?: Uint8Array; wire: Uint8Array };

export const tsigTarget = target<TsigCase>({
  name: 'tsig',
  about: 'dns/tsig.ts verifyRequest: never throws; an edited signed request verifies only if what the MAC covers is unchanged (RFC 8945 §4.3)',
  weight: 2,
  prepare: () => ({
    arbitrary: fc.oneof(
      { weight: 4, arbitrary: fc.tuple(signed, fc.array(edit, { maxLength: 4 })).map(([original, edits]) => ({ original, wire: mutate(original, edits) })) },
      { weight: 1, arbitrary: packet.map((wire) => ({ wire })) },
    ),
    check({ original, wire }) {
      const r = verifyRequest(wire, keyring, NOW);
      if (r.kind !== 'ok' || !original) return;
      // The MAC covers everything before the TSIG but the ID (RFC 8945 §4.3.1 uses the Original ID).
      const t = readMessage(wire, { skipRecords: true });
      const o = readMessage(original, { skipRecords: true });
      if (!t.ok || !o.ok || !t.message.tsig || !o.message.tsig) fail('a verified request without a readable TSIG');
      if (!sameBytes(wire.subarray(2, t.message.tsig.offset), original.subarray(2, o.message.tsig.offset))) fail('an edited request verified');
    },
  }),
});
