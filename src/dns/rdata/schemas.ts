// Per-type RDATA layouts. `lower`: names are lower-cased in canonical form (RFC 4034 §6.2 item 3 as
// amended by RFC 6840 §5.1, which drops NSEC). `compress`: names may be compressed in messages, which
// RFC 3597 §4 limits to the types defined in RFC 1035; SRV is excluded by RFC 2782 ("name compression
// is not to be used for this field"), DNAME by RFC 6672 §2.5 (its target "MUST NOT be sent out in
// compressed form"), and every newer type by RFC 3597 §4.

import { RRType as T } from '../types.js';
import { RdataError } from './error.js';
import { Reader } from './wire.js';
import * as f from './fields.js';

export interface TypeSpec {
  fields: f.Field[];
  lower: boolean;
  compress: boolean;
  /** False when only the RFC 3597 `\#` form can be used in presentation. */
  text: boolean;
  /** Whole-RDATA rules that no single field can see. */
  check?: (rdata: Uint8Array) => void;
}

const specs = new Map<number, TypeSpec>();

function def(types: number[], fields: f.Field[], opts: Partial<Omit<TypeSpec, 'fields'>> = {}): void {
  for (const t of types) specs.set(t, { fields, lower: false, compress: false, text: true, ...opts });
}

const legacy = { lower: true, compress: true };
const lowerOnly = { lower: true };

/** RFC 4034 §5.1.4, RFC 4509 §2.2, RFC 6605 §2: SHA-1, SHA-256 and SHA-384 digest lengths. */
const digestLength: Record<number, number> = { 1: 20, 2: 32, 4: 48 };
function checkDs(rdata: Uint8Array): void {
  const want = digestLength[rdata[3]];
  if (want !== undefined && rdata.length - 4 !== want)
    throw new RdataError(`digest type ${rdata[3]} needs a ${want}-octet digest, not ${rdata.length - 4}`);
}

/** RFC 9460 §2.4.2: AliasMode (SvcPriority 0) records carry no SvcParams. */
function checkSvcb(rdata: Uint8Array): void {
  const r = new Reader(rdata);
  const priority = r.u16('SvcPriority');
  r.name('TargetName');
  if (priority === 0 && r.remaining > 0) throw new RdataError('AliasMode (SvcPriority 0) must not have SvcParams (RFC 9460 §2.4.2)');
}

def([T.A], [f.ipv4('address')]);
def([T.NS], [f.name('nsdname')], legacy);
def([T.MD, T.MF], [f.name('madname')], legacy);
def([T.CNAME], [f.name('cname')], legacy);
def([T.MB], [f.name('madname')], legacy);
def([T.MG], [f.name('mgmname')], legacy);
def([T.MR], [f.name('newname')], legacy);
def([T.PTR], [f.name('ptrdname')], legacy);
def([T.DNAME], [f.name('target')], lowerOnly);
def([T.SOA], [
  f.name('mname'), f.name('rname'), f.uint('serial', 32), f.period('refresh'), f.period('retry'), f.period('expire'),
  f.period('minimum'),
], legacy);
def([T.HINFO], [f.charString('cpu'), f.charString('os')]); // in the §6.2 list, but holds no names
def([T.MINFO], [f.name('rmailbx'), f.name('emailbx')], legacy);
def([T.MX], [f.uint('preference', 16), f.name('exchange')], legacy);
def([T.TXT, 99 /* SPF, RFC 7208 §3.1 */], [f.strings('text')]);
def([T.RP], [f.name('mbox'), f.name('txtdname')], lowerOnly);
def([T.AFSDB], [f.uint('subtype', 16), f.name('hostname')], lowerOnly);
def([21 /* RT, RFC 1183 §3.3 */, T.KX], [f.uint('preference', 16), f.name('exchange')], lowerOnly);
def([26 /* PX, RFC 2163 §4 */], [f.uint('preference', 16), f.name('map822'), f.name('mapx400')], lowerOnly);
def([T.AAAA], [f.ipv6('address')]);
def([T.SRV], [f.uint('priority', 16), f.uint('weight', 16), f.uint('port', 16), f.name('target')], lowerOnly);
def([T.NAPTR], [
  f.uint('order', 16), f.uint('preference', 16), f.charString('flags'), f.charString('services'), f.charString('regexp'),
  f.name('replacement'),
], lowerOnly);
def([T.NXT], [f.name('next'), f.opaque('bitmap')], { lower: true, text: false });
def([T.A6], [f.a6('address')], lowerOnly);
def([T.DS, T.CDS], [f.uint('key tag', 16), f.uint('algorithm', 8), f.uint('digest type', 8), f.hex('digest')], { check: checkDs });
def([T.SSHFP], [f.uint('algorithm', 8), f.uint('fingerprint type', 8), f.hex('fingerprint')]);
const sig = [
  f.rrtype('type covered'), f.uint('algorithm', 8), f.uint('labels', 8), f.uint('original TTL', 32), f.time('expiration'),
  f.time('inception'), f.uint('key tag', 16), f.name("signer's name"), f.base64('signature'),
];
def([T.RRSIG, T.SIG], sig, lowerOnly);
def([T.NSEC], [f.name('next domain name'), f.typeBitmap('type bitmap')]);
def([T.DNSKEY, T.CDNSKEY], [f.uint('flags', 16), f.uint('protocol', 8), f.uint('algorithm', 8), f.base64('public key')]);
def([T.DHCID], [f.base64('digest')]);
def([T.NSEC3], [
  f.uint('hash algorithm', 8), f.uint('flags', 8), f.uint('iterations', 16), f.salt('salt'), f.hashedName('next hashed owner'),
  f.typeBitmap('type bitmap'),
]);
def([T.NSEC3PARAM], [f.uint('hash algorithm', 8), f.uint('flags', 8), f.uint('iterations', 16), f.salt('salt')]);
def([T.TLSA, T.SMIMEA], [f.uint('usage', 8), f.uint('selector', 8), f.uint('matching type', 8), f.hex('data')]);
def([T.OPENPGPKEY], [f.base64('public key')]);
def([T.CSYNC], [f.uint('serial', 32), f.uint('flags', 16), f.typeBitmap('type bitmap')]);
// RFC 9859 §3.1: the RRtype notified, the scheme (1 = NOTIFY), the port and the target host.
def([T.DSYNC], [f.rrtype('rrtype'), f.uint('scheme', 8), f.uint('port', 16), f.name('target')]);
def([T.ZONEMD], [f.uint('serial', 32), f.uint('scheme', 8), f.uint('hash algorithm', 8), f.hex('digest')]);
def([T.SVCB, T.HTTPS], [f.uint('SvcPriority', 16), f.name('TargetName'), f.svcParams('SvcParams')], { check: checkSvcb });
def([T.URI], [f.uint('priority', 16), f.uint('weight', 16), f.tailString('target')]);
def([T.CAA], [f.uint('flags', 8), f.caaTag('tag'), f.tailString('value')]);

export function typeSpec(type: number): TypeSpec | undefined {
  return specs.get(type);
}
