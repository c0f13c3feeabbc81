// A secondary zone's copy in the state folder (secondary-store.ts): read back after a restart, its records
// must be the zone's own bytes. They were views of the file's Buffer, and the serial-free digest of the
// content (version.ts contentDigest -> withSerial(soa, 0)) then zeroed the served SOA's serial in place:
// after any restart a secondary answered SOA serial 0 (found by test/interop/crash-secondary.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCopy, writeCopy } from '../../../src/state/secondary-store.js';
import { contentDigest, soaSerial, withSerial } from '../../../src/state/version.js';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import type { Rr } from '../../../src/dns/rr.js';
import { readRecords, recordsSize, writeRecords } from '../../../src/transfer/wire-records.js';

const origin = Name.fromText('sec.test.');
const rr = (owner: string, type: number, text: string): Rr => ({ name: Name.fromText(owner, origin), type, class: 1, ttl: 300, rdata: parseRdata(type, text, origin) });
const records = [
  rr('@', RRType.SOA, 'ns1 hostmaster 7 3600 600 1209600 60'),
  rr('@', RRType.NS, 'ns1'),
  rr('ns1', RRType.A, '192.0.2.1'),
];

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tandem-copy-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('secondary zone copy', () => {
  it('RFC 1035 §3.3.13: the SOA read back keeps its serial through the digest of the content (no shared bytes)', async () => {
    await writeCopy(dir, origin, records);
    const back = (await readCopy(dir, origin))!;
    const soa = back.find((r) => r.type === RRType.SOA)!;
    expect(soaSerial(soa.rdata)).toBe(7);
    contentDigest(back, [], { nameservers: [], multiProvider: false, nsTtl: 3600, dnssec: false, denial: 'compact' } as never);
    expect(soaSerial(soa.rdata)).toBe(7);
    expect(soaSerial(withSerial(soa.rdata, 0))).toBe(0);
    expect(soaSerial(soa.rdata)).toBe(7);
  });

  it('withSerial copies a Buffer too (Buffer.prototype.slice is a view)', () => {
    const buf = Buffer.from(records[0].rdata);
    const other = withSerial(buf, 9);
    expect(soaSerial(other)).toBe(9);
    expect(soaSerial(buf)).toBe(7);
  });

  it('records read from wire form own their bytes: the buffer they came from can change or go', () => {
    const buf = Buffer.alloc(recordsSize(records));
    writeRecords(buf, 0, records);
    const back = readRecords(buf, 0, records.length).rrs;
    buf.fill(0);
    expect(back.map((r) => Buffer.from(r.rdata).toString('hex'))).toEqual(records.map((r) => Buffer.from(r.rdata).toString('hex')));
    expect(back.map((r) => r.name.toString())).toEqual(records.map((r) => r.name.toString()));
  });
});
