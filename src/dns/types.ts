// Resource record types, classes, opcodes and rcodes (IANA DNS parameters registry).

export const RRType = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, WKS: 11, PTR: 12, HINFO: 13,
  MINFO: 14, MX: 15, TXT: 16, RP: 17, AFSDB: 18, SIG: 24, KEY: 25, AAAA: 28, LOC: 29, NXT: 30, SRV: 33,
  NAPTR: 35, KX: 36, CERT: 37, A6: 38, DNAME: 39, OPT: 41, APL: 42, DS: 43, SSHFP: 44, IPSECKEY: 45,
  RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, HIP: 55,
  RT: 21, PX: 26, SPF: 99, CDS: 59, CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, DSYNC: 66, NXNAME: 128,
  TKEY: 249, TSIG: 250, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255, URI: 256, CAA: 257,
} as const;

export type RRTypeName = keyof typeof RRType;

const byNumber = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));

/** Mnemonic for a type number, or the RFC 3597 `TYPEnnn` form. */
export function typeName(type: number): string {
  return byNumber.get(type) ?? `TYPE${type}`;
}

/** Type number from a mnemonic or `TYPEnnn` (RFC 3597 §5); undefined when unknown. */
export function typeFromName(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = (RRType as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^TYPE([0-9]{1,5})$/.exec(upper);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

/** Meta and query types that can never be stored in a zone (RFC 6895 §3.1, RFC 9824 §2). */
export function isMetaType(type: number): boolean {
  return type === RRType.OPT || (type >= 128 && type <= 255) || type === 0;
}

export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const Rcode = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7,
  NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10, BADVERS: 16,
} as const;

/** EDNS option codes (IANA). */
export const EdnsOption = { COOKIE: 10, PADDING: 12, EDE: 15 } as const;

/** Extended DNS Error codes (RFC 8914 §4, RFC 9824 §3.5). */
export const EdeCode = { OTHER: 0, DNSSEC_BOGUS: 6, SIGNATURE_EXPIRED: 7, NOT_AUTHORITATIVE: 20, NOT_SUPPORTED: 21, INVALID_QUERY_TYPE: 30 } as const;
