// CSYNC RDATA (RFC 7477 §2.1.1): serial, flags, NSEC-style type bit map; and what tandem publishes.
import { describe, expect, it } from 'vitest';
import { csyncProblem, decodeCsync, encodeCsync } from '../../../src/dns/csync.js';
import { formatRdata, parseRdata } from '../../../src/dns/rdata.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';

describe('CSYNC', () => {
  it('RFC 7477 §2.1.1: encodes as the presentation form reads (serial, flags immediate|soaminimum, types)', () => {
    const rdata = encodeCsync({ serial: 66, immediate: true, soaminimum: true, types: [RRType.NS, RRType.AAAA, RRType.A] });
    expect(formatRdata(RRType.CSYNC, rdata)).toBe('66 3 A NS AAAA');
    expect(Buffer.from(parseRdata(RRType.CSYNC, '66 3 A NS AAAA', Name.ROOT))).toEqual(Buffer.from(rdata));
    expect(decodeCsync(rdata)).toEqual({ serial: 66, flags: 3, immediate: true, soaminimum: true, types: [RRType.A, RRType.NS, RRType.AAAA] });
  });

  it('RFC 7477 §2.1.1.2, §2.1.1.2.1: undefined flags and types other than NS, A, AAAA are not published', () => {
    expect(csyncProblem(parseRdata(RRType.CSYNC, '1 0 NS', Name.ROOT))).toBeUndefined();
    expect(csyncProblem(parseRdata(RRType.CSYNC, '1 4 NS', Name.ROOT))).toMatch(/flags 4/);
    expect(csyncProblem(parseRdata(RRType.CSYNC, '1 1 NS MX', Name.ROOT))).toMatch(/type MX/);
  });
});
