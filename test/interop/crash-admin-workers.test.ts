// Crash safety (issue 15): SIGKILL of the whole process group (primary and two workers) in the middle of a
// burst of admin API changes. Scenario and checks: test/helpers/crash-admin.ts.
import { describe, it } from 'vitest';
import { adminBurstScenario } from '../helpers/crash-admin.js';

describe('SIGKILL during a burst of admin changes (--workers 2)', () => {
  it('every acknowledged change survives, a cut batch is all or nothing, same DS, serial never back (RFC 1982), delv validates', async () => {
    await adminBurstScenario(2, 2);
  }, 150_000);
});
