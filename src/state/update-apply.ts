// RFC 2136 §3.4.2 on the working copy of one zone change (change-context.ts): the update section of an UPDATE,
// applied in order, the way tandem's zones are made. The zone data (records) is what an UPDATE edits; what the
// server makes itself stays the server's:
// - our nameservers (zone.nameservers) and the SOA (zone.soa, the serial policy) are not records: deleting
//   them is ignored like RFC 2136 ignores deleting the apex SOA and NS; an SOA with a newer serial is taken
//   into zone.soa (YAML zones);
// - DNSKEYs are claims (claims.ts): an UPDATE holds a key as the source `ddns`, and lets go only of its own
//   claims; our own keys (the private key is here) cannot be deleted;
// - RRSIG, NSEC, NSEC3, NSEC3PARAM and the CDS/CDNSKEY the signer makes cannot be changed. Another provider's
//   CDS/CDNSKEY (a KSK we do not serve) is zone data beside them.
// A refusal throws (AdminError): the manager then writes nothing, so the message applies wholly or not at all.
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRType, typeName } from '../dns/types.js';
import { canonicalRdata, rdataEquals } from '../dns/rdata.js';
import { decodeSoa } from '../dns/soa.js';
import { keyTag } from '../dnssec/keys.js';
import { serialNewer } from '../transfer/serial.js';
import { isMasterFile } from '../config/masterzone.js';
import { SIGNER_TYPES, type ChangeContext } from './change-context.js';
import { describeSources } from './claims.js';
import { AdminError, type RecordView } from './types.js';

/** One RR of an UPDATE's update section, by its class (RFC 2136 §2.5). */
export type UpdateOp =
  /** §2.5.1: class = the zone's: add to an RRset. */
  | { op: 'add'; rr: Rr }
  /** §2.5.2: class ANY, a type: delete an RRset. */
  | { op: 'delete-rrset'; name: Name; type: number }
  /** §2.5.3: class ANY, type ANY: delete every RRset at a name. */
  | { op: 'delete-name'; name: Name }
  /** §2.5.4: class NONE: delete one RR. */
  | { op: 'delete-rr'; name: Name; type: number; rdata: Uint8Array };

/** What an applied update did besides its changes (ctx.what): the RRs it ignored, and why. */
export interface UpdateNotes {
  ignored: string[];
}

/** Thrown for an update the server will not make; the whole message is answered REFUSED and nothing changes. */
export class UpdateRefused extends AdminError {
  constructor(message: string) {
    super(1004, 400, message);
  }
}

const sameRdata = (type: number, a: Uint8Array, b: Uint8Array) => rdataEquals(canonicalRdata(type, a), canonicalRdata(type, b));
const show = (name: Name, type: number) => `${name} ${typeName(type)}`;

/** Applies `ops` in order (RFC 2136 §3.4.2.7: one at a time, each seeing the ones before). */
export function applyUpdateOps(ctx: ChangeContext, ops: readonly UpdateOp[]): UpdateNotes {
  const notes: UpdateNotes = { ignored: [] };
  const u = new Applier(ctx, notes);
  for (const op of ops) {
    if (op.op === 'add') u.add(op.rr);
    else if (op.op === 'delete-rrset') u.deleteRrset(op.name, op.type);
    else if (op.op === 'delete-name') u.deleteName(op.name);
    else u.deleteRr(op.name, op.type, op.rdata);
  }
  return notes;
}

class Applier {
  private readonly origin: Name;

  constructor(private readonly ctx: ChangeContext, private readonly notes: UpdateNotes) {
    this.origin = ctx.entry.loaded.input.origin;
  }

  private ignore(what: string): void {
    this.notes.ignored.push(what);
  }

  private data(name: Name, type?: number): RecordView[] {
    return this.ctx.records.filter((r) => r.name.equals(name) && (type === undefined || r.type === type));
  }

  private atApex(name: Name): boolean {
    return name.equals(this.origin);
  }

  private own(): Uint8Array[] {
    const k = this.ctx.entry.prepared.keys;
    return k ? k.published.map((p) => p.dnskey) : [];
  }

  /** The served apex RRset of `type` (DNSKEY, CDS, CDNSKEY: the signer's plus the data's). */
  private served(type: number): Uint8Array[] {
    return this.ctx.entry.prepared.zone.nodes.get(this.origin.key)?.rrsets.get(type)?.rdatas ?? [];
  }

  /** A CDS/CDNSKEY the signer makes (served, and not zone data). */
  private signerMade(type: number, rdata: Uint8Array): boolean {
    return this.served(type).some((r) => rdataEquals(r, rdata)) && !this.data(this.origin, type).some((r) => rdataEquals(r.rdata, rdata));
  }

  private ourNameserver(rdata: Uint8Array): boolean {
    return this.ctx.entry.loaded.input.settings.nameservers.some((n) => sameRdata(RRType.NS, n.wire(), rdata));
  }

  private refuseSigner(type: number, name: Name, verb: string): void {
    if (SIGNER_TYPES.includes(type)) {
      throw new UpdateRefused(`${verb} ${show(name, type)}: ${typeName(type)} records are made by tandem's signer and cannot be changed by UPDATE`);
    }
  }

  // ---- §3.4.2.2: class = zone class, add ----

  add(rr: Rr): void {
    const { name, type } = rr;
    this.refuseSigner(type, name, 'add');
    if (type === RRType.SOA) return this.takeSoa(rr);
    const ctx = this.ctx;
    // A CNAME and other data never share a name (RFC 1034 §3.6.2): the one that comes second is ignored.
    // The apex always has other data (SOA, NS).
    if (type === RRType.CNAME && (this.atApex(name) || this.data(name).some((r) => r.type !== RRType.CNAME))) return this.ignore(`+${show(name, type)}: other data at the name`);
    if (type !== RRType.CNAME && this.data(name, RRType.CNAME).length > 0) return this.ignore(`+${show(name, type)}: a CNAME at the name`);
    if (this.atApex(name)) {
      if (type === RRType.DNSKEY) return this.addKey(rr);
      if (type === RRType.NS && this.ourNameserver(rr.rdata)) return this.ignore(`+${show(name, type)} ${this.nsText(rr.rdata)}: one of our nameservers, served already`);
      if ((type === RRType.CDS || type === RRType.CDNSKEY) && this.signerMade(type, rr.rdata)) return this.ignore(`+${show(name, type)}: the signer publishes it already`);
    }
    // CDS/CDNSKEY are served with the DNSKEY RRset's TTL (zone.dnssec.dnskey_ttl), whatever the UPDATE said.
    const ttl = this.atApex(name) && (type === RRType.CDS || type === RRType.CDNSKEY) ? this.keyTtl() : rr.ttl;
    const input = { name, type, ttl, rdata: rr.rdata };
    const same = this.data(name, type);
    const dup = same.find((r) => sameRdata(type, r.rdata, rr.rdata));
    if (dup) {
      // A duplicate replaces the RR (§3.4.2.2): only its TTL can differ.
      if (dup.ttl !== ttl) ctx.replace(dup, { ...input, comment: dup.comment });
      return;
    }
    // A CNAME replaces the CNAME there (§3.4.2.2); so does a CSYNC the zone's one (change-context.ts).
    if ((type === RRType.CNAME || type === RRType.CSYNC) && same.length > 0) {
      ctx.replace(same[0], input);
      for (const extra of same.slice(1)) ctx.remove(extra);
      return;
    }
    ctx.add(input);
  }

  private nsText(rdata: Uint8Array): string {
    return this.ctx.entry.loaded.input.settings.nameservers.find((n) => sameRdata(RRType.NS, n.wire(), rdata))?.toString() ?? '';
  }

  /** A DNSKEY at the apex: held by `ddns` from now on (claims.ts), with every check of an imported key. */
  private addKey(rr: Rr): void {
    const tag = keyTag(rr.rdata);
    if (this.own().some((k) => rdataEquals(k, rr.rdata))) return this.ignore(`+DNSKEY ${tag}: our own key, served already`);
    if (this.ctx.keySources(rr.rdata).includes('ddns')) return this.ignore(`+DNSKEY ${tag}: held by DNS UPDATE already`);
    // Served with the DNSKEY RRset's one TTL (zone.dnssec.dnskey_ttl), as Knot and PowerDNS do.
    this.ctx.claimKey(rr.rdata, 'ddns', this.keyTtl());
  }

  private keyTtl(): number {
    return this.ctx.entry.loaded.config.dnssec.dnskeyTtl;
  }

  /** §3.4.2.2: an SOA is taken only when its serial is newer (RFC 1982) than the one served. */
  private takeSoa(rr: Rr): void {
    const ctx = this.ctx;
    if (!this.atApex(rr.name)) throw new UpdateRefused(`add ${show(rr.name, RRType.SOA)}: an SOA belongs at the zone apex only`);
    const soa = decodeSoa(rr.rdata);
    if (!serialNewer(soa.serial, ctx.entry.serial)) return this.ignore(`+SOA: serial ${soa.serial} is not newer than ${ctx.entry.serial}`);
    if (isMasterFile(ctx.entry.file)) return this.ignore('+SOA: the SOA of a master-file zone is changed in its file');
    const s = ctx.entry.loaded.input.records.find((r) => r.type === RRType.SOA);
    const cur = s ? decodeSoa(s.rdata) : undefined;
    const set = (k: string, v: string | number, old: string | number | undefined) => { if (v !== old) ctx.setting(['soa', k], v); };
    set('mname', soa.mname.toString(), cur?.mname.toString());
    set('rname', soa.rname.toString(), cur?.rname.toString());
    for (const k of ['refresh', 'retry', 'expire', 'minimum'] as const) set(k, soa[k], cur?.[k]);
    ctx.setting(['soa', 'serial'], soa.serial);
    ctx.serialSet = true;
    ctx.what.push(`SOA serial ${soa.serial}`);
  }

  // ---- §3.4.2.3: class ANY, delete an RRset or a name ----

  deleteRrset(name: Name, type: number): void {
    this.refuseSigner(type, name, 'delete');
    if (this.atApex(name) && (type === RRType.SOA || type === RRType.NS)) return this.ignore(`-${show(name, type)}: the apex ${typeName(type)} RRset is never deleted (RFC 2136 §3.4.2.3)`);
    if (type === RRType.SOA) return; // no SOA below the apex
    if (this.atApex(name) && type === RRType.DNSKEY) return this.releaseKeys();
    if (this.atApex(name) && (type === RRType.CDS || type === RRType.CDNSKEY) && this.served(type).length > this.data(name, type).length) {
      this.ignore(`-${show(name, type)}: the records the signer makes stay`);
    }
    for (const r of this.data(name, type)) this.ctx.remove(r);
  }

  deleteName(name: Name): void {
    const types = new Set(this.data(name).map((r) => r.type));
    if (this.atApex(name)) {
      types.delete(RRType.NS);
      this.ignore(`-${name} ANY: the apex SOA and NS RRsets stay (RFC 2136 §3.4.2.3)`);
    }
    for (const type of types) this.deleteRrset(name, type);
  }

  /** The DNSKEY RRset deleted: every key `ddns` holds goes (or loses that claim); our own and others' stay. */
  private releaseKeys(): void {
    let kept = this.own().length;
    for (const r of this.data(this.origin, RRType.DNSKEY)) {
      if (this.ctx.keySources(r.rdata).includes('ddns')) this.ctx.releaseKey(r.rdata, 'ddns');
      else kept++;
    }
    if (kept > 0) this.ignore(`-DNSKEY: ${kept} key(s) not added by UPDATE stay (our own, and keys held by other sources)`);
  }

  // ---- §3.4.2.4: class NONE, delete one RR ----

  deleteRr(name: Name, type: number, rdata: Uint8Array): void {
    this.refuseSigner(type, name, 'delete');
    if (type === RRType.SOA) return this.ignore(`-${show(name, type)}: the SOA is never deleted (RFC 2136 §3.4.2.4)`);
    const apex = this.atApex(name);
    if (apex && type === RRType.DNSKEY) return this.deleteKey(rdata);
    if (apex && (type === RRType.CDS || type === RRType.CDNSKEY) && this.signerMade(type, rdata)) {
      throw new UpdateRefused(`delete ${show(name, type)}: made by tandem's signer for a KSK in the DNSKEY RRset; remove the key instead`);
    }
    const hit = this.data(name, type).find((r) => sameRdata(type, r.rdata, rdata));
    if (apex && type === RRType.NS) {
      if (!hit && this.ourNameserver(rdata)) return this.ignore(`-NS ${this.nsText(rdata)}: our nameserver (zone.nameservers) stays`);
      // The last NS of the served apex RRset is never deleted (RFC 2136 §3.4.2.4).
      if (hit && this.ctx.entry.loaded.input.settings.nameservers.length === 0 && this.data(name, type).length === 1) {
        return this.ignore(`-NS: the last apex NS record stays (RFC 2136 §3.4.2.4)`);
      }
    }
    if (hit) this.ctx.remove(hit);
  }

  private deleteKey(rdata: Uint8Array): void {
    const tag = keyTag(rdata);
    if (this.own().some((k) => rdataEquals(k, rdata))) {
      throw new UpdateRefused(`delete DNSKEY ${tag}: our own key (its private key is here); it stays while this server signs the zone`);
    }
    const held = this.ctx.keySources(rdata);
    if (held.length === 0) return; // not in the zone: nothing to delete (§3.4.2.4)
    if (!held.includes('ddns')) {
      throw new UpdateRefused(`delete DNSKEY ${tag}: held by ${describeSources(held)}, not by DNS UPDATE; remove it there`);
    }
    this.ctx.releaseKey(rdata, 'ddns');
  }
}
