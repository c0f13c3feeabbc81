// An in-memory ZoneManager for API tests: the same contract as state/manager.ts (Cloudflare's DNSSEC states,
// AdminError codes), no disk, no signing. `calls` lists every mutating call so tests can prove a refused request
// changed nothing.
import { createHash } from 'node:crypto';
import { Name } from '../../src/dns/name.js';
import { canonicalRdata } from '../../src/dns/rdata.js';
import { RRType } from '../../src/dns/types.js';
import {
  AdminError, type BatchInput, type BatchResult, type DnssecStatus, type DnssecView, type DnsSettingsView, type KeyView,
  type RecordInput, type RecordView, type ZoneManager, type ZoneView,
} from '../../src/state/types.js';

/** RFC 4034 Appendix B key tag. */
export function keyTag(rdata: Uint8Array): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i] : rdata[i] << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

export function dnskeyRdata(flags: number, algorithm: number, publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + publicKey.length);
  out[0] = flags >> 8; out[1] = flags & 0xff; out[2] = 3; out[3] = algorithm;
  out.set(publicKey, 4);
  return out;
}

/** A 64-octet stand-in for a P-256 public key, different per seed. */
export function fakePublicKey(seed: string): Uint8Array {
  const a = createHash('sha256').update(seed + '/x').digest();
  const b = createHash('sha256').update(seed + '/y').digest();
  return new Uint8Array(Buffer.concat([a, b]));
}

function keyView(flags: number, publicKey: Uint8Array, source: 'own' | 'external', ttl: number, recordId?: string): KeyView {
  const dnskey = dnskeyRdata(flags, 13, publicKey);
  const k: KeyView = { keyTag: keyTag(dnskey), flags, algorithm: 13, publicKey: Buffer.from(publicKey).toString('base64'), dnskey, ttl, source };
  if (recordId) k.recordId = recordId;
  return k;
}

interface ZoneState {
  view: ZoneView;
  records: RecordView[];
  status: DnssecStatus;
  modifiedOn: string | null;
  multiSigner: boolean;
  presigned: boolean;
  useNsec3: boolean;
  parentDs: boolean;
  own: KeyView[];
  sets: Map<string, { ttl: number; keys: KeyView[] }>;
  multiProvider: boolean;
  nsTtl: number;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export interface FakeZone {
  name: string;
  nameservers?: string[];
  records?: { name: string; type: number; ttl: number; rdata: Uint8Array }[];
}

export class FakeManager implements ZoneManager {
  readonly calls: string[] = [];
  private readonly state = new Map<string, ZoneState>();
  private seq = 0;
  private tick = 0;

  constructor(zones: FakeZone[]) {
    for (const z of zones) {
      const name = Name.fromText(z.name.endsWith('.') ? z.name : z.name + '.');
      const id = createHash('sha256').update(name.key).digest('hex').slice(0, 32);
      const view: ZoneView = {
        id, name,
        nameservers: (z.nameservers ?? ['ns1.tandem.test.', 'ns2.tandem.test.']).map((n) => Name.fromText(n)),
        defaultTtl: 300,
        createdOn: '2024-01-01T00:00:00Z', modifiedOn: '2024-01-01T00:00:00Z',
      };
      const st: ZoneState = {
        view, records: [], status: 'disabled', modifiedOn: null, multiSigner: false, presigned: false, useNsec3: false,
        parentDs: false, own: [], sets: new Map(), multiProvider: false, nsTtl: 86400,
      };
      this.state.set(id, st);
      for (const r of z.records ?? []) st.records.push(this.newRecord(id, { name: Name.fromText(r.name, name), type: r.type, ttl: r.ttl, rdata: r.rdata }));
    }
  }

  /** Everything observable, as one string: equal before and after means nothing changed. */
  snapshot(): string {
    return JSON.stringify([...this.state.values()].map((s) => ({
      ...s, view: { ...s.view, name: s.view.name.key, nameservers: undefined },
      records: s.records.map((r) => ({ ...r, name: r.name.key, rdata: Buffer.from(r.rdata).toString('hex') })),
      own: s.own.map((k) => k.keyTag), sets: [...s.sets.entries()].map(([n, v]) => [n, v.ttl, v.keys.map((k) => k.publicKey)]),
    })));
  }

  private now(): string {
    this.tick += 1;
    return new Date(Date.UTC(2024, 5, 1, 0, 0, this.tick)).toISOString().replace('.000Z', 'Z');
  }

  private z(id: string): ZoneState {
    const s = this.state.get(id);
    if (!s) throw new AdminError(7003, 404, 'zone not found');
    return s;
  }

  private newRecord(zoneId: string, rec: RecordInput): RecordView {
    const id = createHash('sha256').update(`${zoneId}/${++this.seq}`).digest('hex').slice(0, 32);
    const t = this.now();
    return { ...rec, id, zoneId, createdOn: t, modifiedOn: t };
  }

  private check(s: ZoneState, rec: RecordInput, except?: string, records = s.records): void {
    if (!rec.name.isSubdomainOf(s.view.name)) throw new AdminError(1004, 400, 'DNS Validation Error: name is not in the zone');
    if (rec.type === RRType.DNSKEY && !s.multiSigner)
      throw new AdminError(1004, 400, 'DNS Validation Error: DNSKEY records need dnssec_multi_signer (RFC 8901 model 2)');
    const canon = canonicalRdata(rec.type, rec.rdata);
    for (const r of records) {
      if (r.id !== except && r.type === rec.type && r.name.equals(rec.name) && sameBytes(canonicalRdata(r.type, r.rdata), canon))
        throw new AdminError(81058, 400, 'An identical record already exists.');
    }
  }

  zones(): ZoneView[] { return [...this.state.values()].map((s) => s.view); }
  zone(id: string): ZoneView | undefined { return this.state.get(id)?.view; }
  zoneByName(name: Name): ZoneView | undefined { return this.zones().find((z) => z.name.equals(name)); }
  records(zoneId: string): RecordView[] { return [...(this.state.get(zoneId)?.records ?? [])]; }
  record(zoneId: string, id: string): RecordView | undefined { return this.state.get(zoneId)?.records.find((r) => r.id === id); }
  recordsAt(zoneId: string, name: Name, type?: number): RecordView[] {
    return this.records(zoneId).filter((r) => r.name.equals(name) && (type === undefined || r.type === type));
  }

  async createRecord(zoneId: string, rec: RecordInput): Promise<RecordView> {
    this.calls.push('createRecord');
    const s = this.z(zoneId);
    this.check(s, rec);
    const v = this.newRecord(zoneId, rec);
    s.records.push(v);
    return v;
  }

  async updateRecord(zoneId: string, id: string, rec: RecordInput): Promise<RecordView> {
    this.calls.push('updateRecord');
    const s = this.z(zoneId);
    const i = s.records.findIndex((r) => r.id === id);
    if (i < 0) throw new AdminError(81044, 404, 'Record does not exist.');
    this.check(s, rec, id);
    const v: RecordView = { ...rec, id, zoneId, createdOn: s.records[i].createdOn, modifiedOn: this.now() };
    s.records[i] = v;
    return v;
  }

  async deleteRecord(zoneId: string, id: string): Promise<RecordView> {
    this.calls.push('deleteRecord');
    const s = this.z(zoneId);
    const i = s.records.findIndex((r) => r.id === id);
    if (i < 0) throw new AdminError(81044, 404, 'Record does not exist.');
    return s.records.splice(i, 1)[0];
  }

  async batch(zoneId: string, ops: BatchInput): Promise<BatchResult> {
    this.calls.push('batch');
    const s = this.z(zoneId);
    const work = [...s.records];
    const out: BatchResult = { deletes: [], patches: [], puts: [], posts: [] };
    const find = (id: string) => {
      const i = work.findIndex((r) => r.id === id);
      if (i < 0) throw new AdminError(81044, 404, 'Record does not exist.');
      return i;
    };
    for (const id of ops.deletes) out.deletes.push(work.splice(find(id), 1)[0]);
    for (const { id, patch } of ops.patches) {
      const i = find(id);
      const rec = { ...work[i], ...patch };
      this.check(s, rec, id, work);
      work[i] = { ...rec, modifiedOn: this.now() };
      out.patches.push(work[i]);
    }
    for (const { id, record } of ops.puts) {
      const i = find(id);
      this.check(s, record, id, work);
      work[i] = { ...record, id, zoneId, createdOn: work[i].createdOn, modifiedOn: this.now() };
      out.puts.push(work[i]);
    }
    for (const rec of ops.posts) {
      this.check(s, rec, undefined, work);
      const v = this.newRecord(zoneId, rec);
      work.push(v);
      out.posts.push(v);
    }
    s.records = work;
    return out;
  }

  dnssec(zoneId: string): DnssecView {
    const s = this.z(zoneId);
    const external: KeyView[] = [
      ...s.records.filter((r) => r.type === RRType.DNSKEY).map((r) => {
        const flags = (r.rdata[0] << 8) | r.rdata[1];
        return { ...keyView(flags, r.rdata.subarray(4), 'external', r.ttl, r.id), algorithm: r.rdata[3], dnskey: r.rdata, keyTag: keyTag(r.rdata) };
      }),
      ...[...s.sets.values()].flatMap((set) => set.keys),
    ];
    const view: DnssecView = { status: s.status, modifiedOn: s.modifiedOn, multiSigner: s.multiSigner, presigned: s.presigned, useNsec3: s.useNsec3, keys: [...s.own, ...external] };
    const ksk = s.own.find((k) => k.flags === 257);
    if (ksk) {
      view.ksk = ksk;
      const digest = createHash('sha256').update(s.view.name.canonicalWire()).update(ksk.dnskey).digest();
      const rdata = new Uint8Array(4 + digest.length);
      rdata[0] = ksk.keyTag >> 8; rdata[1] = ksk.keyTag & 0xff; rdata[2] = 13; rdata[3] = 2;
      rdata.set(digest, 4);
      const digestHex = digest.toString('hex').toUpperCase();
      view.ds = { rdata, digestHex, text: `${s.view.name.toString()} 3600 IN DS ${ksk.keyTag} 13 2 ${digestHex}` };
    }
    return view;
  }

  async patchDnssec(zoneId: string, patch: { status?: 'active' | 'disabled'; multiSigner?: boolean; presigned?: boolean; useNsec3?: boolean }): Promise<DnssecView> {
    this.calls.push('patchDnssec');
    const s = this.z(zoneId);
    if (patch.multiSigner !== undefined) s.multiSigner = patch.multiSigner;
    if (patch.presigned !== undefined) s.presigned = patch.presigned;
    if (patch.useNsec3 !== undefined) s.useNsec3 = patch.useNsec3;
    if (patch.status === 'active' && (s.status === 'disabled' || s.status === 'pending-disabled')) {
      if (s.own.length === 0) {
        const seed = `${s.view.name.key}/${this.seq++}`;
        s.own = [keyView(257, fakePublicKey(seed + 'ksk'), 'own', 3600), keyView(256, fakePublicKey(seed + 'zsk'), 'own', 3600)];
      }
      s.status = s.parentDs ? 'active' : 'pending';
    } else if (patch.status === 'disabled' && (s.status === 'active' || s.status === 'pending')) {
      s.status = s.parentDs ? 'pending-disabled' : 'disabled';
    }
    s.modifiedOn = this.now();
    return this.dnssec(zoneId);
  }

  async deleteDnssec(zoneId: string): Promise<void> {
    this.calls.push('deleteDnssec');
    const s = this.z(zoneId);
    if (s.status !== 'disabled') throw new AdminError(1004, 400, `DNSSEC is ${s.status}: disable it first (and wait for the DS to leave the parent)`);
    s.own = [];
    s.modifiedOn = null;
  }

  async setParentDs(zoneId: string, present: boolean): Promise<DnssecView> {
    this.calls.push('setParentDs');
    const s = this.z(zoneId);
    s.parentDs = present;
    if (present && s.status === 'pending') s.status = 'active';
    if (!present && s.status === 'pending-disabled') s.status = 'disabled';
    return this.dnssec(zoneId);
  }

  dnsSettings(zoneId: string): DnsSettingsView {
    const s = this.z(zoneId);
    return { multiProvider: s.multiProvider, nsTtl: s.nsTtl };
  }

  async patchDnsSettings(zoneId: string, patch: { multiProvider?: boolean }): Promise<DnsSettingsView> {
    this.calls.push('patchDnsSettings');
    const s = this.z(zoneId);
    if (patch.multiProvider !== undefined) s.multiProvider = patch.multiProvider;
    return this.dnsSettings(zoneId);
  }

  externalKeySets(zoneId: string): { name: string; ttl: number; keys: KeyView[] }[] {
    return [...this.z(zoneId).sets.entries()].map(([name, v]) => ({ name, ...v }));
  }

  async putExternalKeySet(zoneId: string, set: string, ttl: number, keys: { flags: number; protocol: number; algorithm: number; publicKey: string }[]) {
    this.calls.push('putExternalKeySet');
    const s = this.z(zoneId);
    const views = keys.map((k) => {
      if (k.protocol !== 3) throw new AdminError(1004, 400, 'DNSKEY protocol must be 3 (RFC 4034 §2.1.2)');
      const dnskey = dnskeyRdata(k.flags, k.algorithm, Buffer.from(k.publicKey, 'base64'));
      return { keyTag: keyTag(dnskey), flags: k.flags, algorithm: k.algorithm, publicKey: k.publicKey, dnskey, ttl, source: 'external' as const };
    });
    s.sets.set(set, { ttl, keys: views });
    return { name: set, ttl, keys: views };
  }

  async deleteExternalKeySet(zoneId: string, set: string): Promise<void> {
    this.calls.push('deleteExternalKeySet');
    if (!this.z(zoneId).sets.delete(set)) throw new AdminError(81044, 404, 'key set not found');
  }
}
