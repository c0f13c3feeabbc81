// The apex key RRsets a signed zone serves: DNSKEY (own KSK and ZSK plus keys imported from the other
// providers, RFC 8901 §2.1.2 model 2), and CDS/CDNSKEY (RFC 7344 §3) for every KSK in that set, so all
// providers publish the same CDS/CDNSKEY RRsets (RFC 8901 §8, RFC 9975); or the RFC 8078 §4 delete forms.
import type { Name } from '../dns/name.js';
import type { RRset } from '../dns/rr.js';
import { RRClass, RRType } from '../dns/types.js';
import { rdataEquals } from '../dns/rdata.js';
import { checkDnskeyRdata, dsRdata, FLAGS_KSK, KeyError } from './keys.js';

export type CdsMode = 'publish' | 'delete' | 'none';

export interface ApexInput {
  zone: Name;
  keys: { ksk: { dnskey: Uint8Array }; zsk: { dnskey: Uint8Array } };
  /**
   * Own keys published beside the signing pair without signing (a rollover's new key before it signs, its old key
   * until it is removed): in the DNSKEY RRset, and KSKs among them in CDS/CDNSKEY (RFC 6781 §4.1.2, RFC 7344 §3).
   */
  ownExtra?: Uint8Array[];
  /** DNSKEY RDATA imported from other providers (their ZSKs, and their KSKs for CDS/CDNSKEY). */
  imported?: Uint8Array[];
  dnskeyTtl: number;
  cds: CdsMode;
  /** Cloudflare's way: other providers' KSKs stay out of the DNSKEY RRset (they still get CDS/CDNSKEY). */
  omitImportedKsks?: boolean;
  /** Imported keys were already checked (checkImportedKey, possibly forced to another algorithm). */
  importedChecked?: boolean;
  /**
   * Other providers' CDS and CDNSKEY RDATA for KSKs we do not serve (checkForeignCds), published beside ours
   * when `cds` is 'publish' (multi-signer: every provider publishes the same CDS/CDNSKEY RRsets, RFC 8901 §8).
   */
  foreignCds?: Uint8Array[];
  foreignCdnskey?: Uint8Array[];
}

export interface ApexRrsets {
  dnskey: RRset;
  cds?: RRset;
  cdnskey?: RRset;
}

/** RFC 8078 §4: `CDS 0 0 0 00`: key tag 0, algorithm 0, digest type 0, one zero octet of digest. */
export const CDS_DELETE = Uint8Array.of(0, 0, 0, 0, 0);
/** RFC 8078 §4: `CDNSKEY 0 3 0 AA==`: flags 0, protocol 3, algorithm 0, one zero octet of key. */
export const CDNSKEY_DELETE = Uint8Array.of(0, 0, 3, 0, 0);

export function apexRrsets(input: ApexInput): ApexRrsets {
  const { zone, keys, dnskeyTtl, cds } = input;
  const dnskeys: Uint8Array[] = [];
  const own = [keys.ksk.dnskey, keys.zsk.dnskey, ...(input.ownExtra ?? [])];
  const nOwn = own.length;
  for (const [i, rdata] of [...own, ...(input.imported ?? [])].entries()) {
    if (i >= nOwn && input.importedChecked) {
      if (!dnskeys.some((d) => rdataEquals(d, rdata))) dnskeys.push(rdata);
      continue;
    }
    try {
      // RFC 8901 §4: every provider must use the same algorithm (RFC 4035 §2.2 requires each algorithm in
      // the DNSKEY RRset to sign every RRset), so only algorithm 13 zone keys are accepted.
      checkDnskeyRdata(rdata);
    } catch (err) {
      throw new KeyError(`${i < nOwn ? 'own' : 'imported'} DNSKEY ${i < nOwn ? (i === 0 ? 'KSK' : i === 1 ? 'ZSK' : `key ${i - 2} published`) : i - nOwn}: ${(err as Error).message}`);
    }
    if (!dnskeys.some((d) => rdataEquals(d, rdata))) dnskeys.push(rdata); // RFC 2181 §5: no duplicate RRs in an RRset
  }
  const set = (type: number, rdatas: Uint8Array[]): RRset => ({ name: zone, type, class: RRClass.IN, ttl: dnskeyTtl, rdatas });
  const isKsk = (d: Uint8Array) => ((d[0] << 8) | d[1]) === FLAGS_KSK;
  const served = input.omitImportedKsks ? dnskeys.filter((d) => own.some((o) => rdataEquals(o, d)) || !isKsk(d)) : dnskeys;
  const out: ApexRrsets = { dnskey: set(RRType.DNSKEY, served) };
  if (cds === 'publish') {
    // CDS/CDNSKEY for our KSK and every imported KSK of our algorithm (a parent can only use those).
    const ksks = dnskeys.filter((d) => isKsk(d) && d[3] === keys.ksk.dnskey[3]);
    const merged = (own: Uint8Array[], foreign: Uint8Array[] = []) => [...own, ...foreign.filter((f, i) => !own.some((o) => rdataEquals(o, f)) && foreign.findIndex((x) => rdataEquals(x, f)) === i)];
    out.cds = set(RRType.CDS, merged(ksks.map((d) => dsRdata(zone, d, 2)), input.foreignCds));
    out.cdnskey = set(RRType.CDNSKEY, merged(ksks, input.foreignCdnskey));
  } else if (cds === 'delete') {
    out.cds = set(RRType.CDS, [CDS_DELETE]);
    out.cdnskey = set(RRType.CDNSKEY, [CDNSKEY_DELETE]);
  }
  return out;
}
