// RRL with `--workers 2`: each worker limits the answers it sends with its own table, with half of each rate (rrl.ts
// `share`: together the workers allow the configured rate, not twice it; docs/workers.md). Workers hold
// no zone, so the primary says with each answer synthesized from a wildcard (RFC 4592) which wildcard it came from;
// a flood of random names under one wildcard from one /24 then shares one account per worker, as in a single
// process, instead of one account per name (which would let the whole flood through).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';
import { udpBurst } from '../helpers/burst.js';

let dir: string;
let p: ServeProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-rrl-workers-'));
  await cp(EXAMPLE_ZONES, join(dir, 'zones'), { recursive: true });
  p = await serve(['--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2', '--api', 'off', '--rrl', '5'], {}, 60_000);
}, 75_000);
afterAll(async () => {
  if (p?.child.exitCode === null) p.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const burst = (from: string, n: number, name: (i: number) => string) => udpBurst({ host: '127.0.0.1', port: p.port }, from, n, name);

describe('tandem serve --workers 2 --rrl 5', () => {
  it('random names under a wildcard from one /24 share an account in each worker: at most 5 full answers in all', async () => {
    const rnd = (i: number) => `${Math.random().toString(36).slice(2, 10)}${i}`;
    const r = await burst('127.0.5.1', 60, (i) => `${rnd(i)}.wild.example.com.`);
    expect(r.full).toBeGreaterThan(0);
    // 2.5 credits per worker: 2 answers each when the burst is spread, fewer when one worker read most of it; 5 + 1 for
    // a second turning during the burst.
    expect(r.full).toBeLessThanOrEqual(6);
    expect(r.tc).toBeGreaterThan(10);
  });

  it('random names that do not exist from one /24 likewise (one account per zone)', async () => {
    const rnd = (i: number) => `${Math.random().toString(36).slice(2, 10)}${i}`;
    const r = await burst('127.0.6.1', 60, (i) => `${rnd(i)}.example.com.`);
    expect(r.full).toBeGreaterThan(0);
    expect(r.full).toBeLessThanOrEqual(6);
    expect(r.tc).toBeGreaterThan(10);
  });
});
