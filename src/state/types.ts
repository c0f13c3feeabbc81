// The admin surface of the server: what the HTTP API (api/) and the CLI may read and change. The implementation
// (state/manager.ts) persists every accepted change before it resolves, serialises changes per zone, and swaps the
// served zone set at once.
import type { Name } from '../dns/name.js';
import type { KeySource, RecordSource } from './claims.js';

export type { KeySource, RecordSource } from './claims.js';

/** An admin failure with a Cloudflare-style error code and the HTTP status to answer with. */
export class AdminError extends Error {
  constructor(readonly code: number, readonly status: number, message: string) {
    super(message);
  }
}

export type DnssecStatus = 'active' | 'pending' | 'disabled' | 'pending-disabled' | 'error';

export interface ZoneView {
  /** 32 lower-case hex, stable for a zone across restarts. */
  id: string;
  name: Name;
  /** Our own nameservers for the zone. */
  nameservers: Name[];
  /** The zone's default TTL (zone.ttl), used for Cloudflare's ttl 1 = automatic. */
  defaultTtl: number;
  /** The SOA serial served now (e.g. for a CSYNC's serial, RFC 7477 §2.1.1.1). */
  serial?: number;
  createdOn: string;
  modifiedOn: string;
}

export interface RecordInput {
  name: Name;
  type: number;
  ttl: number;
  rdata: Uint8Array;
  comment?: string;
}

export interface RecordView extends RecordInput {
  /** 32 lower-case hex, stable across restarts and edits of the record. */
  id: string;
  /**
   * A DNSKEY at the apex: the sources that hold the key (claims.ts). In what deleteRecord returns: the
   * sources still holding it, so the record stays while this is not empty.
   */
  keySources?: KeySource[];
  zoneId: string;
  createdOn: string;
  modifiedOn: string;
}

export interface KeyView {
  keyTag: number;
  flags: number;
  algorithm: number;
  /** Base64 of the public key field. */
  publicKey: string;
  /** DNSKEY RDATA. */
  dnskey: Uint8Array;
  ttl: number;
  /** 'own' = generated/held by this server (private key here); 'external' = imported public key. */
  source: 'own' | 'external';
  /** Record id when the key came in as a DNSKEY record (external keys). */
  recordId?: string;
  /** External keys: the sources holding the key (claims.ts). */
  sources?: KeySource[];
}

/** Who asks through the dns_records routes; removing a DNSKEY removes only this source's claim unless allSources. */
export interface SourceOptions {
  source?: RecordSource;
  allSources?: boolean;
}

export interface DnssecView {
  status: DnssecStatus;
  /** null when DNSSEC was never enabled or was deleted ("deleted" state). */
  modifiedOn: string | null;
  multiSigner: boolean;
  presigned: boolean;
  useNsec3: boolean;
  /** Our active KSK, when DNSSEC is on (or disabling). */
  ksk?: KeyView;
  /** DS RDATA of our KSK, digest SHA-256, and its presentation RR (`<zone> 3600 IN DS ...`). */
  ds?: { rdata: Uint8Array; text: string; digestHex: string };
  /** Every key in the served DNSKEY RRset (own and external). */
  keys: KeyView[];
}

export interface DnsSettingsView {
  /** Cloudflare `multi_provider` (= legacy `use_apex_ns`): serve the zone's apex NS records with ours. */
  multiProvider: boolean;
  nsTtl: number;
}

export interface BatchInput {
  deletes: string[];
  patches: { id: string; patch: Partial<RecordInput> }[];
  puts: { id: string; record: RecordInput }[];
  posts: RecordInput[];
}

export interface BatchResult {
  deletes: RecordView[];
  patches: RecordView[];
  puts: RecordView[];
  posts: RecordView[];
}

export interface ZoneManager {
  zones(): ZoneView[];
  zone(id: string): ZoneView | undefined;
  zoneByName(name: Name): ZoneView | undefined;

  records(zoneId: string): RecordView[];
  record(zoneId: string, id: string): RecordView | undefined;
  /** The records of one owner (of `type`, when given): what `records` holds at that name, without making every view. */
  recordsAt(zoneId: string, name: Name, type?: number): RecordView[];
  /** A DNSKEY that another source already holds gains this source's claim (81058 only when it holds it already). */
  createRecord(zoneId: string, rec: RecordInput, opts?: SourceOptions): Promise<RecordView>;
  /** PATCH (partial) and PUT (whole) both end here: the record keeps its id. */
  updateRecord(zoneId: string, id: string, rec: RecordInput, opts?: SourceOptions): Promise<RecordView>;
  /** A DNSKEY held by other sources stays: only the caller's claim goes (the view's keySources says who holds it). */
  deleteRecord(zoneId: string, id: string, opts?: SourceOptions): Promise<RecordView>;
  /** All or nothing, in Cloudflare's order: deletes, patches, puts, posts. */
  batch(zoneId: string, ops: BatchInput, opts?: SourceOptions): Promise<BatchResult>;

  dnssec(zoneId: string): DnssecView;
  patchDnssec(zoneId: string, patch: { status?: 'active' | 'disabled'; multiSigner?: boolean; presigned?: boolean; useNsec3?: boolean }): Promise<DnssecView>;
  /** Only from 'disabled' (Cloudflare): removes every DNSSEC record and forgets the keys' publication. */
  deleteDnssec(zoneId: string): Promise<void>;
  /** Lab override of the parent DS check: tell the state machine whether our DS is at the parent. */
  setParentDs(zoneId: string, present: boolean): Promise<DnssecView>;

  dnsSettings(zoneId: string): DnsSettingsView;
  patchDnsSettings(zoneId: string, patch: { multiProvider?: boolean }): Promise<DnsSettingsView>;

  /** NS1-style external key sets: named groups of imported DNSKEYs (one per other provider). */
  externalKeySets(zoneId: string): { name: string; ttl: number; keys: KeyView[] }[];
  putExternalKeySet(zoneId: string, set: string, ttl: number, keys: { flags: number; protocol: number; algorithm: number; publicKey: string }[]): Promise<{ name: string; ttl: number; keys: KeyView[] }>;
  deleteExternalKeySet(zoneId: string, set: string): Promise<void>;
}

/** A secondary zone's refresh state, as the API and CLI show it (transfer/secondary.ts). */
export interface SecondaryStatusView {
  zone: string;
  primaries: string[];
  dnssec: string;
  /** 'serving', 'not transferred yet' or 'expired'. */
  state: string;
  serial?: number;
  primary?: string;
  lastTransfer?: string;
  lastRefresh?: string;
  nextRefresh?: string;
  expiresAt?: string;
  lastError?: { at: string; primary: string; reason: string };
  refreshing: boolean;
}

/** A primary zone's outgoing transfers, as the API shows them. */
export interface OutgoingView {
  zone: string;
  serial: number;
  allow: { address?: string; key?: string; content: string }[];
  notify: string[];
  content: string;
  journal: { kept: number; max: number };
}

/** Zone transfers as the admin API drives them (transfer/service.ts implements it). */
export interface TransferApi {
  secondary(zone: Name): SecondaryStatusView | undefined;
  /** Refreshes a secondary zone now (Cloudflare's force_axfr: `axfr` transfers the whole zone). */
  refresh(zone: Name, opts: { axfr: boolean }): Promise<SecondaryStatusView | undefined>;
  outgoing(zone: Name): OutgoingView | undefined;
}
