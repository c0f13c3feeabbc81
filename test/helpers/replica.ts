// A primary zone manager and a replica fed the primary's changes (afterChange: the delta when there is one, else the
// file), over one zones and state folder: tests that a replica applying deltas serves what the primary serves.
import { pino } from 'pino';
import { SignatureCache } from '../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../src/state/manager.js';
import type { Clock } from '../../src/dnssec/types.js';

export async function openPrimaryAndReplica(zonesDir: string, stateDir: string, clock: Clock): Promise<{ primary: TandemZoneManager; replica: TandemZoneManager; told: ('delta' | 'file')[] }> {
  const base = { zonesDir, stateDir, clock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 10_000 }) };
  let replica: TandemZoneManager | undefined;
  const told: ('delta' | 'file')[] = [];
  const { manager: primary } = await TandemZoneManager.open({
    ...base, afterChange: async (file, _packed, delta) => { told.push(delta ? 'delta' : 'file'); if (delta) await replica!.applyDelta(file, delta); else await replica!.reloadFile(file); },
  });
  ({ manager: replica } = await TandemZoneManager.open({ ...base, role: 'replica' }));
  return { primary, replica, told };
}
