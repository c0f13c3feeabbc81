import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, decodeChange, encodeChange, type Change } from '../../../src/transfer/journal.js';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import type { Rr } from '../../../src/dns/rr.js';

const origin = Name.fromText('example.com.');
const a = (owner: string, ip: string, ttl = 300): Rr => ({ name: Name.fromText(owner, origin), type: RRType.A, class: 1, ttl, rdata: parseRdata(RRType.A, ip, origin) });
const change = (from: number, to: number): Change => ({ from, to, deleted: [a('old', `192.0.2.${from % 250}`)], added: [a('new', `192.0.2.${to % 250}`, 60)] });

describe('IXFR journal', () => {
  it('round-trips a change through its file format', () => {
    const c = change(1, 2);
    const back = decodeChange(encodeChange(c));
    expect(back.from).toBe(1);
    expect(back.to).toBe(2);
    expect(back.deleted[0].name.equals(c.deleted[0].name)).toBe(true);
    expect(Buffer.from(back.added[0].rdata).equals(Buffer.from(c.added[0].rdata))).toBe(true);
    expect(back.added[0].ttl).toBe(60);
  });

  it('RFC 1995 §4: gives the chain of changes from a serial to the current one, survives reopening, and lacks what it never had', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-jnl-'));
    try {
      const j = await Journal.open(dir, 10);
      for (const [f, t] of [[1, 2], [2, 5], [5, 6]]) await j.append(change(f, t));
      expect((await j.since(2, 6))!.map((c) => c.to)).toEqual([5, 6]);
      expect(await j.since(3, 6)).toBeUndefined();
      const again = await Journal.open(dir, 10);
      expect(again.last).toBe(6);
      expect((await again.since(1, 6))!.map((c) => c.from)).toEqual([1, 2, 5]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is bounded: past `max` changes the oldest files go; a change that does not follow the last one resets it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-jnl-'));
    try {
      const j = await Journal.open(dir, 2);
      for (const [f, t] of [[1, 2], [2, 3], [3, 4]]) await j.append(change(f, t));
      expect(await j.since(1, 4)).toBeUndefined();
      expect((await j.since(2, 4))!.length).toBe(2);
      expect((await readdir(dir)).filter((n) => n.endsWith('.ixfr'))).toHaveLength(2);
      await j.append(change(10, 11));
      expect(await j.since(2, 4)).toBeUndefined();
      expect(j.size).toBe(1);
      expect((await readdir(dir)).filter((n) => n.endsWith('.ixfr'))).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps signed changes in memory only', async () => {
    const j = await Journal.open(undefined, 5);
    await j.append(change(1, 2));
    expect((await j.since(1, 2))![0].added).toHaveLength(1);
  });
});
