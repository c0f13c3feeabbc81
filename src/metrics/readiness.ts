// Readiness (`/ready`): every zone of the zones folder loaded and served. A zone is not ready while its
// file is still being read, when its file failed to load and nothing of it is served, and when it is a
// secondary zone without data (not transferred yet, or expired: RFC 1034 §4.3.5, answered SERVFAIL).
// A pre-signed zone whose signatures have expired is served and so counts as ready: every instance holds
// the same data, and taking them all out of a load balancer would only add an outage; the metrics'
// tandem_dnssec_rrsig_expiry_horizon_seconds is where that shows.
import type { TandemZoneManager } from '../state/manager.js';

export interface NotReady {
  /** The zone (Name.key form), when known; else `file` names the zone file. */
  zone?: string;
  file?: string;
  reason: string;
}

export interface Readiness {
  ready: boolean;
  /** Zones served now. */
  zones: number;
  notReady: NotReady[];
}

/** `extra`: what else keeps this process from being ready (a cluster's workers not all running). */
export function readiness(manager: Pick<TandemZoneManager, 'versions' | 'loadState'>, extra: NotReady[] = []): Readiness {
  const notReady: NotReady[] = [];
  let zones = 0;
  for (const v of manager.versions()) {
    if (v.available) zones++;
    else notReady.push({ zone: v.origin.key, reason: v.unavailable ?? 'not served' });
  }
  const { loading, failed } = manager.loadState();
  for (const file of loading) notReady.push({ file, reason: 'loading' });
  for (const f of failed) notReady.push({ file: f.file, reason: `not loaded: ${f.error}` });
  notReady.push(...extra);
  return { ready: notReady.length === 0, zones, notReady };
}
