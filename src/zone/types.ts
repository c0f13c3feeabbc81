// The in-memory zone model and the typed result of a lookup (STYLE habit 1). Pure data: no I/O.
import type { Name } from '../dns/name.js';
import type { RRset } from '../dns/rr.js';

/**
 * Authenticated denial method of a signed zone: made per answer (`compact` RFC 9824, `nsec` RFC 4470 white
 * lies, `nsec3` RFC 5155 narrow), or answered from a chain built and signed at load (`nsec3-chain` RFC 5155,
 * `nsec-chain` RFC 4034), which no answer has to sign.
 */
export type DenialMode = 'compact' | 'nsec' | 'nsec3' | 'nsec3-chain' | 'nsec-chain';

export interface ZoneSettings {
  /** Whether the zone is signed (DNSSEC active, issue 3). */
  dnssec: boolean;
  denial: DenialMode;
  /** `nsec3-chain` only: unsigned delegations get no NSEC3 of their own, the chain's records the Opt-Out flag (RFC 5155 §6). */
  nsec3OptOut?: boolean;
  /** The server's own nameserver names for this zone; served as the apex NS RRset. Empty: use the zone data's apex NS. */
  nameservers: Name[];
  /** TTL of the served apex NS RRset when built from `nameservers`. */
  nsTtl: number;
  /**
   * Cloudflare's `multi_provider` (formerly `use_apex_ns`): serve our own nameservers together with the
   * apex NS records in the zone data. When false and `nameservers` is set, apex NS data is ignored.
   */
  multiProvider: boolean;
}

/** The RRsets of one node by type: the read side of a Map (build.ts stores them in a compact TypeTable). */
export interface RRsetsByType {
  readonly size: number;
  get(type: number): RRset | undefined;
  has(type: number): boolean;
  keys(): Iterable<number>;
  values(): Iterable<RRset>;
}

/** One owner name in the zone. Empty non-terminals are nodes with no RRsets. */
export interface ZoneNode {
  name: Name;
  rrsets: RRsetsByType;
  /** Number of direct children (nodes one label longer), so ENTs and leaves are known without scanning. */
  children: number;
}

export interface Zone {
  origin: Name;
  /** Where the zone came from (file path), for messages. */
  source: string;
  settings: ZoneSettings;
  soa: RRset;
  /** The SOA as negative answers carry it: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §5, RFC 9077 §3); also the NSEC TTL. */
  negativeSoa: RRset;
  /** The apex NS RRset as served (see ZoneSettings.nameservers / multiProvider). */
  apexNs: RRset;
  /** Every node, keyed by Name.key; includes the apex and every empty non-terminal. */
  nodes: ReadonlyMap<string, ZoneNode>;
  /** Number of records in the zone data. */
  recordCount: number;
  /**
   * Set for a pre-signed zone (records served as given, `zone.dnssec.presigned`): its RRSIG and NSEC3
   * records, indexed at load beside the name tree. NSEC records stay in the tree (their owners are names).
   */
  presigned?: PresignedData;
}

/** The NSEC3 parameters of the chain a pre-signed zone answers from (RFC 5155 §4: its NSEC3PARAM). */
export interface Nsec3Params {
  algorithm: number;
  iterations: number;
  salt: Uint8Array;
}

/** One NSEC3 RRset of the chain and the hash its owner label stands for (RFC 5155 §3). */
export interface Nsec3Entry {
  hash: Uint8Array;
  rrset: RRset;
}

/**
 * An NSEC or NSEC3 chain in the order a proof is searched (zone/presigned.ts `coveringNsec`, `findNsec3`):
 * a pre-signed zone's (PresignedData) or the one tandem builds for `nsec3-chain` / `nsec-chain` zones
 * (dnssec/chain.ts).
 */
export interface ChainIndex {
  /** Which chain denial comes from: NSEC3 when the zone has an NSEC3PARAM and its chain, else NSEC, else none. */
  denial: 'nsec' | 'nsec3' | 'none';
  /** The NSEC RRsets in canonical order of their owners (RFC 4034 §6.1). */
  nsec: readonly RRset[];
  /** The NSEC3 RRsets of the chain with `nsec3Params`, sorted by hash (the order of the chain). */
  nsec3: readonly Nsec3Entry[];
  nsec3Params?: Nsec3Params;
}

/**
 * The DNSSEC records of a pre-signed zone that are not names of the zone (RFC 4035 §2, RFC 5155 §7.2.8),
 * built once at load (zone/presigned.ts) so an answer finds each proof by a map look-up or a binary search.
 * Its NSEC RRsets are also in the tree (their owners are names).
 */
export interface PresignedData extends ChainIndex {
  /** RRSIG RRsets by owner key, one RRset per covered type (read with `sigsFor`). */
  rrsigs: ReadonlyMap<string, readonly RRset[]>;
}

/** An RRset placed in a response, with what the signer needs to know about where it came from. */
export interface AnswerRRset {
  rrset: RRset;
  /** Set when synthesized from a wildcard (RFC 4592): the wildcard owner, e.g. `*.example.com.`; rrset.name is the query name. */
  wildcard?: Name;
  /** Set for a CNAME synthesized from a DNAME (RFC 6672 §3.1): never signed. */
  synthesized?: boolean;
}

/**
 * A lookup's outcome (RFC 1034 §4.3.2). `chain` holds the CNAME/DNAME records followed before the
 * final outcome (in answer order); for 'answer' the final RRsets are at the end of `answers`.
 */
export type LookupResult =
  | { kind: 'answer'; answers: AnswerRRset[]; additional: RRset[] }
  | {
      kind: 'referral';
      chain: AnswerRRset[];
      /** The delegation point. */
      cut: Name;
      ns: RRset;
      /** The DS RRset at the cut when the child is signed (RFC 4035 §3.1.4), else undefined. */
      ds?: RRset;
      glue: RRset[];
    }
  | {
      kind: 'nxdomain';
      chain: AnswerRRset[];
      /** The name that does not exist (the query name, or the last CNAME target). */
      name: Name;
      soa: RRset;
      /** The closest encloser (RFC 4592 §3.3.1 / RFC 5155 §7.2.1): the longest existing ancestor. */
      closestEncloser: Name;
    }
  | {
      kind: 'nodata';
      chain: AnswerRRset[];
      /** The existing name (or ENT) that lacks the type. */
      name: Name;
      soa: RRset;
      /** The node's types (empty for an empty non-terminal). */
      types: number[];
      /** Set when the name matched a wildcard that lacks the type: the wildcard owner (RFC 4035 §3.1.3.4). */
      wildcard?: Name;
      closestEncloser?: Name;
    };
