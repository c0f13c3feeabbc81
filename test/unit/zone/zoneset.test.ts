import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { buildZone } from '../../../src/zone/build.js';
import { ZoneSet } from '../../../src/zone/zoneset.js';
import type { Zone } from '../../../src/zone/types.js';
import { input, rd, rr } from './helpers.js';

function zoneAt(origin: string): Zone {
  const o = Name.fromText(origin);
  const records = [rr('@', RRType.SOA, rd.soa(), 3600), rr('@', RRType.NS, rd.name('ns1.example.net.'))].map((r) => ({ ...r, name: o }));
  return buildZone(input(records, { origin: o }));
}

const parent = zoneAt('example.com.');
const child = zoneAt('sub.example.com.');
const set = new ZoneSet([parent, child]);
const name = (t: string) => Name.fromText(t);

describe('ZoneSet', () => {
  it('RFC 1034 §4.3.2 step 2: the zone with the longest enclosing origin answers (nested zones: the child wins)', () => {
    expect(set.closestEnclosing(name('www.sub.example.com.'))).toBe(child);
    expect(set.closestEnclosing(name('SUB.example.com.'))).toBe(child);
    expect(set.closestEnclosing(name('www.example.com.'))).toBe(parent);
    expect(set.closestEnclosing(name('example.com.'))).toBe(parent);
  });

  it('a name outside every zone has no zone', () => {
    expect(set.closestEnclosing(name('example.org.'))).toBeUndefined();
    expect(set.closestEnclosing(name('com.'))).toBeUndefined();
  });

  it('RFC 4035 §3.1.4.1: a DS query at a child apex goes to the served parent zone', () => {
    expect(set.forQuery(name('sub.example.com.'), RRType.DS)).toBe(parent);
    expect(set.forQuery(name('sub.example.com.'), RRType.A)).toBe(child);
    expect(set.forQuery(name('example.com.'), RRType.DS)).toBe(parent);
  });

  it('with() and without() return new sets and leave the original unchanged', () => {
    const replacement = zoneAt('sub.example.com.');
    const swapped = set.with(replacement);
    expect(swapped.get(name('sub.example.com.'))).toBe(replacement);
    expect(swapped.zones()).toHaveLength(2);
    expect(set.get(name('sub.example.com.'))).toBe(child);
    const smaller = set.without(name('sub.example.com.'));
    expect(smaller.closestEnclosing(name('www.sub.example.com.'))).toBe(parent);
    expect(set.zones()).toHaveLength(2);
  });
});
