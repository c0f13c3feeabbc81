// The record framing of the transfer client (transfer/client.ts XfrParser), without sockets: what RFC 5936 §2.2
// and RFC 1995 §4 say a transfer looks like, and the inputs the fuzzer (test/fuzz/targets/xfr.ts) found.
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import type { Rr } from '../../../src/dns/rr.js';
import { RRClass, RRType } from '../../../src/dns/types.js';
import { XfrError, XfrParser } from '../../../src/transfer/client.js';

const zone = Name.fromText('example.com.');
const soa = (serial: number): Rr => ({
  name: zone, type: RRType.SOA, class: RRClass.IN, ttl: 3600,
  rdata: parseRdata(RRType.SOA, `ns1 hostmaster ${serial} 7200 3600 1209600 300`, zone),
});
const a: Rr = { name: Name.fromText('www.example.com.'), type: RRType.A, class: RRClass.IN, ttl: 300, rdata: Uint8Array.of(192, 0, 2, 1) };

describe('XfrParser', () => {
  it('RFC 5936 §2.2: SOA, records, SOA is a whole zone', () => {
    const p = new XfrParser(zone, undefined, 100);
    for (const rr of [soa(5), a, soa(5)]) p.add(rr);
    expect(p.done()).toBe(true);
    expect(p.result('test')).toMatchObject({ kind: 'full', records: [soa(5), a] });
  });

  it('RFC 1995 §4: SOA(new), SOA(old), deletions, SOA(new), additions, SOA(new) is one change', () => {
    const p = new XfrParser(zone, soa(4), 100);
    for (const rr of [soa(5), soa(4), a, soa(5), soa(5)]) p.add(rr);
    expect(p.result('test')).toMatchObject({ kind: 'incremental', changes: [{ from: 4, to: 5, deleted: [a], added: [] }] });
  });

  it('an SOA with malformed RDATA is an XfrError, not an endless serial walk (fuzz seed 2131439832)', () => {
    const p = new XfrParser(zone, soa(3), 100);
    p.add(soa(5));
    const bad: Rr = { ...soa(5), rdata: Uint8Array.from([63, 65, 65, 65, 0x80, 9]) };
    expect(() => p.add(bad)).toThrow(XfrError);
    expect(() => p.add(bad)).toThrow(/malformed SOA/);
  });

  it('records of another zone or class, and more than the limit, are refused', () => {
    const started = (max = 100) => { const p = new XfrParser(zone, undefined, max); p.add(soa(1)); return p; };
    expect(() => started().add({ ...a, name: Name.fromText('www.example.org.') })).toThrow(/not in example.com/);
    expect(() => started().add({ ...a, class: RRClass.CH })).toThrow(/class 3/);
    const p = started(2);
    p.add(a);
    expect(() => p.add(a)).toThrow(/larger than 2 records/);
  });
});
