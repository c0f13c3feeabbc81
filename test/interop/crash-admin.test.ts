// Crash safety (issue 15): SIGKILL in the middle of a burst of admin API changes, one process. The scenario
// and its checks (acknowledged changes kept, cut batches all or nothing, same DS by `tandem ds`, delv, serial
// never back, no temp file left): test/helpers/crash-admin.ts; `--workers 2`: crash-admin-workers.test.ts.
import { describe, it } from 'vitest';
import { adminBurstScenario } from '../helpers/crash-admin.js';

describe('SIGKILL during a burst of admin changes (one process)', () => {
  it('every acknowledged change survives, a cut batch is all or nothing, same DS, serial never back (RFC 1982), delv validates', async () => {
    await adminBurstScenario(1, 3);
  }, 150_000);
});
