// Key sync as the admin API and the CLI see it (service.ts implements SyncApi; api/sync.ts serves it).
import type { Name } from '../../dns/name.js';
import type { ParentNotifyEvent } from '../../transfer/parent-notify.js';
import type { GeneralizedNotify } from '../../transfer/service.js';
import type { Outcome } from './state.js';

export interface SyncKeyView {
  type: string;
  keyTag: number;
  flags?: number;
  /** Presentation RDATA. */
  rdata: string;
}

export interface SyncPeerView {
  name: string;
  method: string;
  /** How it is reached (`ddns 192.0.2.1:53 key sync-key`, `cloudflare https://...`). */
  target: string;
  /** Still in zone.sync (a peer being removed may not be). */
  configured: boolean;
  ksk: boolean;
  cds: boolean;
  pull: boolean;
  interval: number;
  /** `in sync`, `differs` (see differences), `failing`, `not synced yet`, `removing`, `removed`. */
  state: string;
  lastPush?: Outcome;
  lastPull?: Outcome & { validated?: string };
  /** What of ours is published there (as far as we know: the last push that succeeded). */
  published: SyncKeyView[];
  /** The peer's keys as last read (ours marked). */
  theirKeys: (SyncKeyView & { ours: boolean })[];
  /** Key tags this peer's pull holds in our DNSKEY RRset (claims `sync:<name>`). */
  imported: number[];
  differences: string[];
  removal?: { step: string; waitingFor: string; startedAt: string; until?: string };
}

export interface SyncStatusView {
  zone: string;
  peers: SyncPeerView[];
  /** The latest generalized NOTIFYs to the parent (RFC 9859; transfer/parent-notify.ts). */
  parentNotify: ParentNotifyEvent[];
}

/** A generalized NOTIFY this server received as a parent (RFC 9859 §4; transfer/service.ts). */
export type ReceivedNotify = GeneralizedNotify;

export interface SyncApi {
  /** The zone's key sync (undefined: no such zone). */
  status(zone: Name): Promise<SyncStatusView | undefined>;
  /** Syncs with every peer now (push, pull, removals), then the status. */
  run(zone: Name): Promise<SyncStatusView | undefined>;
  /** Starts (or advances) the withdrawal of a peer's keys; `dsAbsent`: the operator says the parent's DS for its KSKs is gone. */
  remove(zone: Name, peer: string, opts: { dsAbsent?: boolean }): Promise<SyncPeerView>;
  /** Generalized NOTIFYs received for delegations in the zone (this server as the parent). */
  notifications(zone: Name): ReceivedNotify[];
}
