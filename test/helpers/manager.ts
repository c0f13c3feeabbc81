// A zone manager over a copy of the example zone, opened before a file's tests and removed after them, with a
// settable clock (tests of the request path: handler, response cache, TSIG).
import { afterAll, beforeAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SignatureCache } from '../../src/dnssec/cache.js';
import { TandemZoneManager } from '../../src/state/manager.js';
import { exampleZoneDir } from './zones.js';

export interface ExampleManager {
  manager: TandemZoneManager;
  zonesDir: string;
  stateDir: string;
  /** The manager's clock: set `t` to move time. */
  clock: { t: number; now(): number };
}

/** Registers beforeAll/afterAll that open (and remove) an example-zone manager; fields are set once beforeAll ran. */
export function useExampleManager(t0: number): ExampleManager {
  const m = { clock: { t: t0, now() { return this.t; } } } as ExampleManager;
  beforeAll(async () => {
    m.zonesDir = await exampleZoneDir();
    m.stateDir = await mkdtemp(join(tmpdir(), 'tandem-manager-'));
    ({ manager: m.manager } = await TandemZoneManager.open({ zonesDir: m.zonesDir, stateDir: m.stateDir, clock: m.clock, logger: pino({ level: 'silent' }), cache: new SignatureCache() }));
  });
  afterAll(async () => {
    await rm(m.zonesDir, { recursive: true, force: true });
    await rm(m.stateDir, { recursive: true, force: true });
  });
  return m;
}
