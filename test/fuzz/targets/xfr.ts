// Fuzz target for the transfer client's record framing (transfer/client.ts XfrParser), fed without sockets:
// whole zones streamed by the writer (dns/writer.ts encodeStream) and read back message by message must come out
// as sent; any other record sequence ends in XfrError or a result whose framing holds (RFC 5936 §2.2, RFC 1995 §4).
import fc from 'fast-check';
import { Name } from '../../../src/dns/name.js';
import { checkRdata, parseRdata, RdataError } from '../../../src/dns/rdata.js';
import { readMessage } from '../../../src/dns/reader.js';
import type { Rr } from '../../../src/dns/rr.js';
import { RRClass, RRType } from '../../../src/dns/types.js';
import { encodeStream } from '../../../src/dns/writer.js';
import { XfrError, XfrParser, type Fetched } from '../../../src/transfer/client.js';
import { soaSerial } from '../../../src/state/version.js';
import { nameIn, record, ZONE } from '../arbitraries.js';
import { target } from '../target.js';

function fail(why: string): never {
  throw new Error(why);
}

const soa = (serial: number, owner = ZONE): Rr => ({
  name: owner, type: RRType.SOA, class: RRClass.IN, ttl: 3600,
  rdata: parseRdata(RRType.SOA, `ns1.example.com. hostmaster.example.com. ${serial} 7200 3600 1209600 300`, Name.ROOT),
});

const valid = (rr: Rr) => {
  try {
    checkRdata(rr.type, rr.rdata);
    return rr.type !== RRType.SOA && rr.name.isSubdomainOf(ZONE);
  } catch (e) {
    if (e instanceof RdataError) return false;
    throw e;
  }
};

type Stream = { kind: 'stream'; serial: number; records: Rr[]; limit: number };
type Sequence = { kind: 'sequence'; have: number | null; rrs: Rr[] };

const SERIALS = [1, 2, 3, 5, 0xffffffff];
const anyRr: fc.Arbitrary<Rr> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SERIALS).map((s) => soa(s)) },
  { weight: 3, arbitrary: record(nameIn(ZONE)) },
  { weight: 1, arbitrary: fc.tuple(record(nameIn(ZONE)), fc.constantFrom(3, 254, 255)).map(([rr, cls]) => ({ ...rr, class: cls })) },
  { weight: 1, arbitrary: fc.constantFrom(soa(2, Name.fromText('www.example.com.')), soa(2, Name.fromText('example.org.'))) },
);

export const xfrTarget = target<Stream | Sequence>({
  name: 'xfr',
  about: 'transfer/client.ts XfrParser: a streamed zone reads back as sent; any record sequence gives XfrError or a correctly framed result',
  weight: 2,
  prepare: () => ({
    arbitrary: fc.oneof(
      fc.record({
        kind: fc.constant('stream' as const), serial: fc.constantFrom(...SERIALS),
        records: fc.array(record(nameIn(ZONE)), { maxLength: 30 }).map((rs) => rs.filter(valid)), limit: fc.integer({ min: 512, max: 65535 }),
      }),
      fc.record({ kind: fc.constant('sequence' as const), have: fc.option(fc.constantFrom(...SERIALS)), rrs: fc.array(anyRr, { maxLength: 12 }) }),
    ),
    check(c) {
      if (c.kind === 'stream') stream(c);
      else sequence(c);
    },
  }),
});

function stream(c: Stream): void {
  const head = soa(c.serial);
  const parser = new XfrParser(ZONE, undefined, 1000);
  let done = false;
  for (const msg of encodeStream({ id: 1, opcode: 0, aa: true, rd: false, cd: false, rcode: 0, question: { name: ZONE, type: RRType.AXFR, class: RRClass.IN } }, [head, ...c.records, head], c.limit)) {
    if (done) fail('messages after the parser saw the closing SOA');
    if (msg.length > c.limit && msg.length > 512) fail(`a ${msg.length}-octet message over the limit ${c.limit}`);
    const r = readMessage(msg);
    if (!r.ok) fail(`the reader refuses a streamed message: ${r.error.reason}`);
    for (const rr of r.message.answer) parser.add(rr);
    done = parser.done();
  }
  if (!done) fail('the parser did not see the end of a complete stream');
  const got = parser.result('fuzz');
  if (got.kind !== 'full' || got.records.length !== c.records.length + 1) fail(`a full transfer of ${c.records.length + 1} records came out as ${got.kind}`);
  got.records.slice(1).forEach((rr, i) => {
    const want = c.records[i];
    if (!rr.name.equals(want.name) || rr.type !== want.type || rr.ttl !== want.ttl) fail(`record ${i + 1} changed in the stream`);
  });
}

function sequence(c: Sequence): void {
  const have = c.have === null ? undefined : soa(c.have);
  const parser = new XfrParser(ZONE, have, 8);
  let result: Fetched;
  try {
    for (const rr of c.rrs) parser.add(rr);
    parser.done();
    result = parser.result('fuzz');
  } catch (e) {
    if (e instanceof XfrError) return;
    throw e;
  }
  const first = c.rrs[0];
  if (!first || first.type !== RRType.SOA || !first.name.equals(ZONE)) fail('a transfer that does not start with the apex SOA was accepted');
  if (c.rrs.some((rr) => rr.class !== RRClass.IN || !rr.name.isSubdomainOf(ZONE))) fail('a record of another class or zone was accepted');
  if (c.rrs.length > 8) fail('more records than the limit were accepted');
  if (result.kind === 'full' && result.records.some((rr, i) => i > 0 && rr.type === RRType.SOA)) fail('an SOA inside a full transfer');
  if (result.kind === 'incremental') {
    if (!have || result.changes[0].from !== soaSerial(have.rdata)) fail('incremental changes that do not start at our serial');
    for (let i = 1; i < result.changes.length; i++) if (result.changes[i].from !== result.changes[i - 1].to) fail('a gap between incremental changes');
    if (result.changes.at(-1)!.to !== soaSerial(first.rdata)) fail('incremental changes that do not end at the new serial');
  }
}
