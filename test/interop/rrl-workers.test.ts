// RRL with `--workers 2`: each worker limits the answers it sends with its own table (docs/workers.md). Workers hold
// no zone, so the primary says with each answer synthesized from a wildcard (RFC 4592) which wildcard it came from;
// a flood of random names under one wildcard from one /24 then shares one account per worker, as in a single
// process, instead of one account per name (which would let the whole flood through).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';
import { encodeQuery } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { RRType } from '../../src/dns/types.js';

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

/** `n` queries at once from `from`, names from `name(i)`; counts full answers, TC=1 slips and silence. */
async function burst(from: string, n: number, name: (i: number) => string): Promise<{ full: number; tc: number; none: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, from, resolve));
  const seen = new Map<number, boolean>();
  let last = Date.now();
  sock.on('message', (m) => {
    seen.set(m.readUInt16BE(0), (m[2] & 0x02) !== 0);
    last = Date.now();
  });
  for (let id = 1; id <= n; id++) sock.send(encodeQuery(Name.fromText(name(id)), RRType.A, { id, udpSize: 1232, do: true }), p.port, '127.0.0.1');
  const end = Date.now() + 10_000;
  while (Date.now() - last < 1000 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  sock.close();
  const tc = [...seen.values()].filter(Boolean).length;
  return { full: seen.size - tc, tc, none: n - seen.size };
}

describe('tandem serve --workers 2 --rrl 5', () => {
  it('random names under a wildcard from one /24 share an account in each worker: at most 5 full answers per worker', async () => {
    const rnd = (i: number) => `${Math.random().toString(36).slice(2, 10)}${i}`;
    const r = await burst('127.0.5.1', 60, (i) => `${rnd(i)}.wild.example.com.`);
    expect(r.full).toBeGreaterThan(0);
    expect(r.full).toBeLessThanOrEqual(10);
    expect(r.tc).toBeGreaterThan(10);
  });

  it('random names that do not exist from one /24 likewise (one account per zone)', async () => {
    const rnd = (i: number) => `${Math.random().toString(36).slice(2, 10)}${i}`;
    const r = await burst('127.0.6.1', 60, (i) => `${rnd(i)}.example.com.`);
    expect(r.full).toBeLessThanOrEqual(10);
    expect(r.tc).toBeGreaterThan(10);
  });
});
