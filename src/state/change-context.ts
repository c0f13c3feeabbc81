// The working copy of one zone during an admin change (manager.ts `change`): records and admin state to edit,
// and the zone file edits that follow from them.
import { createHash } from 'node:crypto';
import type { Name } from '../dns/name.js';
import { RRType, typeName, isMetaType } from '../dns/types.js';
import { rdataEquals } from '../dns/rdata.js';
import { keyTag } from '../dnssec/keys.js';
import { checkForeignCds, checkImportedKey, ImportError } from '../dnssec/imported.js';
import { csyncProblem } from '../dns/csync.js';
import type { AdminFile, RecordMeta } from './admin-file.js';
import { describeSource, describeSources, holders, keyId, type KeySource } from './claims.js';
import { contentKey, recordsOf, type Entry } from './record-views.js';
import type { LoadedZone } from '../config/zonefile.js';
import type { RrsetEdit, ZoneEdit } from './yamledit.js';
import { AdminError, type RecordInput, type RecordView, type SourceOptions } from './types.js';

/** Records only the signer makes (RFC 4034 §2-§4, RFC 5155 §3-§4); never zone data of a zone we sign. */
export const SIGNER_TYPES: readonly number[] = [RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM];

/** The working copy of one zone during a change. */
export class ChangeContext {
  changed = false;
  readonly what: string[] = [];
  readonly records: RecordView[];
  private readonly touchedSets = new Map<string, [Name, number]>();

  /**
   * The SOA serial is set by this change (an RFC 2136 UPDATE of the SOA, taken when newer): the manager then
   * does not bump it as it does for every other record change.
   */
  serialSet = false;

  /** Changes to the zone file other than records (those follow from `touched`). */
  readonly edits: ZoneEdit[] = [];
  /** zone.dnssec.multi_signer as this change leaves it (NS1 key sets turn it on before adding keys). */
  private multiSigner: boolean;

  constructor(readonly entry: Entry, readonly admin: AdminFile, readonly ts: string) {
    this.records = [...recordsOf(entry)];
    this.multiSigner = entry.loaded.config.dnssec.multiSigner;
  }

  touched(): [Name, number][] {
    return [...this.touchedSets.values()];
  }

  /** The zone file edits of the RRsets this change touched: each (owner, type) as it is now, whole. */
  rrsetEdits(): RrsetEdit[] {
    const before = new Set(recordsOf(this.entry).map((r) => r.name.key));
    return this.touched().map(([owner, type]) => {
      const set = this.records.filter((r) => r.name.equals(owner) && r.type === type);
      return {
        op: 'rrset', owner: owner.toString(), type, ttl: set.length ? Math.min(...set.map((r) => r.ttl)) : 0, rdatas: set.map((r) => r.rdata),
        isNew: !before.has(owner.key), defaultTtl: this.entry.loaded.defaultTtl,
      };
    });
  }

  /**
   * The edited file, parsed again, must hold exactly the touched RRsets as this change made them (fail
   * closed: a file edit that reads back otherwise is refused, never written).
   */
  checkReadBack(loaded: LoadedZone): void {
    const want = new Map<string, string[]>();
    const key = (r: { name: Name; type: number }) => `${r.name.key}|${r.type}`;
    const rr = (r: { ttl: number; rdata: Uint8Array }) => `${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`;
    for (const [owner, type] of this.touched()) want.set(`${owner.key}|${type}`, []);
    for (const r of this.records) want.get(key(r))?.push(rr(r));
    const got = new Map([...want.keys()].map((k) => [k, [] as string[]]));
    const types = new Set(this.touched().map(([, type]) => type));
    for (const r of loaded.input.records) if (types.has(r.type)) got.get(key(r))?.push(rr(r));
    for (const [k, w] of want) {
      if (w.sort().join() !== got.get(k)!.sort().join()) {
        throw new Error(`the zone file as edited does not read back as the change at ${k.replace('|', ' type ')} (a bug in tandem; nothing was written)`);
      }
    }
  }

  setting(path: string[], value: string | number | boolean): void {
    this.edits.push({ op: 'setting', path, value });
    if (path.join('.') === 'dnssec.multi_signer') this.multiSigner = value === true;
    this.changed = true;
  }

  // ---- imported keys and who holds them (claims.ts) ----

  /** Whether a record is an imported key: a DNSKEY at the apex. */
  isKey(r: { name: Name; type: number }): boolean {
    return r.type === RRType.DNSKEY && r.name.equals(this.entry.loaded.input.origin);
  }

  private keyRecord(rdata: Uint8Array): RecordView | undefined {
    return this.records.find((r) => this.isKey(r) && rdataEquals(r.rdata, rdata));
  }

  /** The sources holding a key now; none when the key is not in the zone. */
  keySources(rdata: Uint8Array): KeySource[] {
    return this.keyRecord(rdata) ? holders(this.admin, rdata) : [];
  }

  /**
   * `source` holds the key from now on. A key no source held is added as a DNSKEY record at the apex (with
   * every check of an imported key); a key held already gains a claim. 81058 when `source` holds it already.
   * Returns the record's content key.
   */
  claimKey(rdata: Uint8Array, source: KeySource, ttl: number, comment?: string): string {
    const origin = this.entry.loaded.input.origin;
    const existing = this.keyRecord(rdata);
    if (source.startsWith('ns1:')) this.admin.keySets[source.slice(4)] ??= { ttl, keys: [] };
    if (!existing) {
      const key = this.add({ name: origin, type: RRType.DNSKEY, ttl, rdata, comment });
      this.setClaims(rdata, [source]);
      return key;
    }
    const held = holders(this.admin, rdata);
    if (held.includes(source)) throw new AdminError(81058, 400, `An identical record already exists: DNSKEY ${keyTag(rdata)} is held by ${describeSource(source)} already.`);
    this.setClaims(rdata, [...held, source]);
    this.changed = true;
    this.what.push(`DNSKEY ${keyTag(rdata)} also held by ${source}`);
    return contentKey(existing);
  }

  /**
   * `source` lets go of the key: the DNSKEY record goes when no other source holds it, else only the claim.
   * `held` is false (and nothing changes) when `source` did not hold it; `heldBy` is who holds it after.
   */
  releaseKey(rdata: Uint8Array, source: KeySource): { held: boolean; heldBy: KeySource[] } {
    const existing = this.keyRecord(rdata);
    if (!existing) return { held: false, heldBy: [] };
    const held = holders(this.admin, rdata);
    if (!held.includes(source)) return { held: false, heldBy: held };
    const rest = held.filter((s) => s !== source);
    if (rest.length === 0) this.remove(existing);
    else {
      this.setClaims(rdata, rest);
      this.changed = true;
      this.what.push(`DNSKEY ${keyTag(rdata)} released by ${source}, still held by ${rest.join(', ')}`);
    }
    return { held: true, heldBy: rest };
  }

  /**
   * A DNSKEY record removed through the dns_records routes: the caller's claim goes (every claim with
   * allSources). Refused (1004) when the caller does not hold the key. Returns who still holds it.
   */
  releaseKeyAs(rdata: Uint8Array, opts: SourceOptions = {}): KeySource[] {
    if (opts.allSources) {
      for (const s of this.keySources(rdata)) this.releaseKey(rdata, s);
      return [];
    }
    const source = opts.source ?? 'records';
    const r = this.releaseKey(rdata, source);
    if (!r.held) {
      throw new AdminError(1004, 400, `DNSKEY ${keyTag(rdata)} is held by ${describeSources(r.heldBy)}, not by ${describeSource(source)}: nothing was removed. ` +
        'Remove it there, or from every source with all_sources=true (tandem remove-key --all-sources).');
    }
    return r.heldBy;
  }

  /** Records who holds a key; NS1 sets list their keys too (claimsAtLoad reads the `ns1:` claims from them). */
  private setClaims(rdata: Uint8Array, sources: KeySource[]): void {
    const id = keyId(rdata);
    this.admin.keyClaims ??= {};
    if (sources.length > 0) this.admin.keyClaims[id] = sources;
    else delete this.admin.keyClaims[id];
    for (const [name, set] of Object.entries(this.admin.keySets)) {
      const wanted = sources.includes(`ns1:${name}`);
      if (wanted && !set.keys.includes(id)) set.keys.push(id);
      if (!wanted && set.keys.includes(id)) set.keys = set.keys.filter((k) => k !== id);
    }
  }

  private touch(name: Name, type: number): void {
    this.touchedSets.set(`${name.key}|${type}`, [name, type]);
    this.changed = true;
  }

  private check(rec: RecordInput): RecordInput {
    const origin = this.entry.loaded.input.origin;
    if (this.entry.loaded.config.dnssec.presigned) {
      throw new AdminError(1004, 400, 'DNS Validation Error: the records of a pre-signed zone come signed from its source; change them there (an unsigned change would fail validation)');
    }
    if (!rec.name.isSubdomainOf(origin)) throw new AdminError(1004, 400, `DNS Validation Error: ${rec.name} is not in the zone ${origin}`);
    if (rec.type === RRType.SOA) throw new AdminError(1004, 400, 'DNS Validation Error: the SOA record is managed by tandem (zone.soa in the zone file)');
    if (SIGNER_TYPES.includes(rec.type) || isMetaType(rec.type)) {
      throw new AdminError(1004, 400, `DNS Validation Error: ${typeName(rec.type)} records are generated by the signer and cannot be added`);
    }
    if (!Number.isInteger(rec.ttl) || rec.ttl < 0 || rec.ttl > 2147483647) throw new AdminError(1004, 400, `DNS Validation Error: ttl ${rec.ttl} is outside 0..2147483647 (RFC 2181 §8)`);
    if (rec.type === RRType.CDS || rec.type === RRType.CDNSKEY) this.checkForeignCds(rec);
    if (rec.type === RRType.CSYNC) {
      if (!rec.name.equals(origin)) throw new AdminError(1004, 400, 'DNS Validation Error: CSYNC belongs at the zone apex, where the parent looks for it (RFC 7477 §2.1)');
      const problem = csyncProblem(rec.rdata);
      if (problem) throw new AdminError(1004, 400, `DNS Validation Error: CSYNC ${problem}`);
    }
    if (rec.type === RRType.DNSKEY) {
      if (!this.multiSigner) {
        throw new AdminError(1004, 400, 'DNS Validation Error: DNSKEY records can only be added with DNSSEC multi-signer on (PATCH /zones/{zone_id}/dnssec {"dnssec_multi_signer": true})');
      }
      if (!rec.name.equals(origin)) throw new AdminError(1004, 400, 'DNS Validation Error: DNSKEY records belong at the zone apex');
      const keys = this.entry.prepared.keys;
      try {
        checkImportedKey(rec.rdata, { zoneAlgorithm: 13, force: this.entry.loaded.config.dnssec.allowForeignAlgorithms, own: keys ? keys.published.map((p) => p.dnskey) : [] });
      } catch (err) {
        if (err instanceof ImportError) throw new AdminError(1004, 400, `DNS Validation Error: DNSKEY ${keyTag(rec.rdata)}: ${err.message}`);
        throw err;
      }
    }
    return rec;
  }

  /**
   * Another provider's CDS/CDNSKEY, for a KSK of theirs we do not serve: published beside the ones the signer
   * makes for our KSK and the imported KSKs (state/prepare.ts merges them), in a multi-signer zone only.
   */
  private checkForeignCds(rec: RecordInput): void {
    const t = rec.type === RRType.CDS ? 'CDS' : 'CDNSKEY';
    if (!this.multiSigner) {
      throw new AdminError(1004, 400, `DNS Validation Error: the signer makes this zone's ${t} records; another provider's ${t} can only be added with DNSSEC multi-signer on`);
    }
    if (!rec.name.equals(this.entry.loaded.input.origin)) throw new AdminError(1004, 400, `DNS Validation Error: ${t} records belong at the zone apex (RFC 7344 §3)`);
    const keys = this.entry.prepared.keys;
    try {
      checkForeignCds(t, rec.rdata, { zoneAlgorithm: 13, force: this.entry.loaded.config.dnssec.allowForeignAlgorithms, own: keys ? keys.published.map((p) => p.dnskey) : [] });
    } catch (err) {
      if (err instanceof ImportError) throw new AdminError(1004, 400, `DNS Validation Error: ${t}: ${err.message}`);
      throw err;
    }
  }

  private meta(key: string, base: Partial<RecordMeta> & { id?: string }, comment?: string): void {
    const prev = this.admin.records[key];
    this.admin.records[key] = {
      id: base.id ?? prev?.id ?? createHash('sha256').update(`${this.entry.id}|${key}`).digest().toString('hex', 0, 16),
      createdOn: base.createdOn ?? prev?.createdOn ?? this.ts,
      modifiedOn: this.ts,
      ...(comment !== undefined ? { comment } : prev?.comment !== undefined ? { comment: prev.comment } : {}),
    };
  }

  add(input: RecordInput): string {
    const rec = this.check(input);
    const key = contentKey(rec);
    if (this.records.some((r) => contentKey(r) === key)) throw new AdminError(81058, 400, 'An identical record already exists.');
    if (rec.type === RRType.CSYNC && this.records.some((r) => r.type === RRType.CSYNC)) {
      throw new AdminError(81058, 400, 'The zone has a CSYNC record already: change that one (a parent ignores a zone\'s CSYNC when it finds several, RFC 7477 §2.1).');
    }
    // One TTL per RRset (RFC 2181 §5.2): a new record's TTL becomes the RRset's.
    this.setTtl(rec.name, rec.type, rec.ttl);
    this.records.push({ ...rec, id: '', zoneId: this.entry.id, createdOn: this.ts, modifiedOn: this.ts });
    this.meta(key, {}, rec.comment);
    this.touch(rec.name, rec.type);
    this.what.push(`+${rec.name} ${typeName(rec.type)}`);
    return key;
  }

  remove(old: RecordView): void {
    const i = this.records.findIndex((r) => r.id === old.id);
    if (i < 0) throw new AdminError(81044, 404, 'Record does not exist.');
    this.records.splice(i, 1);
    delete this.admin.records[contentKey(old)];
    if (this.isKey(old)) this.setClaims(old.rdata, []);
    this.touch(old.name, old.type);
    this.what.push(`-${old.name} ${typeName(old.type)}`);
  }

  /**
   * Gives every record of an RRset `ttl`. The views are replaced, not changed: they are the served entry's
   * (recordsOf), and a change that is refused later must leave them as they were.
   */
  private setTtl(name: Name, type: number, ttl: number): void {
    this.records.forEach((r, i) => {
      if (r.type === type && r.ttl !== ttl && r.name.equals(name)) this.records[i] = { ...r, ttl };
    });
  }

  /**
   * PUT/PATCH: the record keeps its id and creation time. A DNSKEY changed into another key must be held by
   * `source` alone (the other sources still want the old key); the same key with another TTL or comment
   * keeps its claims.
   */
  replace(old: RecordView, input: RecordInput, source: KeySource = 'records'): string {
    const rec = this.check(input);
    const key = contentKey(rec);
    const oldKey = contentKey(old);
    if (key !== oldKey && this.records.some((r) => contentKey(r) === key)) throw new AdminError(81058, 400, 'An identical record already exists.');
    const sameKey = this.isKey(old) && this.isKey(rec) && rdataEquals(old.rdata, rec.rdata);
    const claims = sameKey ? holders(this.admin, old.rdata) : [source];
    if (this.isKey(old) && !sameKey) {
      const others = holders(this.admin, old.rdata).filter((s) => s !== source);
      if (others.length > 0) {
        throw new AdminError(1004, 400, `DNSKEY ${keyTag(old.rdata)} is also held by ${describeSources(others)}: add the new key as a record of its own and delete this one`);
      }
    }
    this.remove(old);
    this.what[this.what.length - 1] = `~${rec.name} ${typeName(rec.type)}`;
    if (this.isKey(rec)) this.setClaims(rec.rdata, claims);
    this.records.push({ ...rec, id: old.id, zoneId: this.entry.id, createdOn: old.createdOn, modifiedOn: this.ts });
    this.setTtl(rec.name, rec.type, rec.ttl);
    this.meta(key, { id: old.id, createdOn: old.createdOn }, rec.comment ?? old.comment);
    this.touch(rec.name, rec.type);
    return key;
  }
}
