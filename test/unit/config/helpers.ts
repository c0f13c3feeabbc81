// Builds small zone files for the config tests: a valid `zone:` header plus the given `records:` body.
import { parseZoneFile, type LoadedZone } from '../../../src/config/zonefile.js';
import { formatRdata } from '../../../src/dns/rdata.js';
import { typeName } from '../../../src/dns/types.js';

export const FILE = 'zones/example.org.yaml';

export const HEADER = `zone:
  soa: { mname: ns1.example.org., rname: hostmaster.example.org., serial: 7 }
  nameservers: [ns1.example.org.]
`;

/** Parses HEADER + `records:` + body (body lines indented by the caller, starting at file line 5). */
export function parseRecords(body: string, header = HEADER): LoadedZone {
  return parseZoneFile(FILE, `${header}records:\n${body}`);
}

/** The records of one owner (relative name, '@' for the apex) as `TYPE rdata` presentation lines. */
export function shown(z: LoadedZone, owner: string): string[] {
  const origin = z.input.origin;
  return z.input.records
    .filter((r) => r.name.relativeTo(origin) === owner)
    .map((r) => `${typeName(r.type)} ${formatRdata(r.type, r.rdata)}`);
}

/** The error thrown by `fn` (fails the test when nothing is thrown). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}
