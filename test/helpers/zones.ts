// Zone folders for tests: the example zone (the tests' own copy of the demo zone) with settings changed.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DenialMode } from '../../src/zone/types.js';

/**
 * The tests' example zones folder (example.com, a copy of demo/zones/). Tests never read demo/ or a zones/
 * folder of the checkout: `npm start` serves and the README's walkthrough edits those.
 */
export const EXAMPLE_ZONES = join(import.meta.dirname, '../fixtures/example');
export const EXAMPLE_ZONE_FILE = join(EXAMPLE_ZONES, 'example.com.yaml');

/** A temp zones folder holding the example zone with `edit` applied to its text. */
export async function exampleZoneDir(edit: (text: string) => string = (t) => t): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-zones-'));
  const text = await readFile(EXAMPLE_ZONE_FILE, 'utf8');
  await writeFile(join(dir, 'example.com.yaml'), edit(text));
  return dir;
}

/** The example zone with another `dnssec.denial` (and `nsec3_opt_out: true` with `optOut`, for nsec3-chain). */
export const withDenial = (mode: DenialMode, opts: { optOut?: boolean } = {}) => (t: string) =>
  t.replace(/denial: compact\b/, `denial: ${mode}${opts.optOut ? '\n    nsec3_opt_out: true' : ''}`);

/**
 * A signed zone `big.test.` of `names` one-line A records (h0 .. h{names-1}, 10.x.y.z) and ns1: with 40,000
 * names the file is about 1.7 MB, over the size from which tandem parses zone files on a worker thread.
 */
export function bigZone(names: number, serial = 1): string {
  const lines = [
    'zone:',
    `  soa: { mname: ns1.big.test., rname: hostmaster.big.test., serial: ${serial} }`,
    '  nameservers: [ns1.big.test.]',
    '  dnssec: { enabled: true, denial: nsec }',
    'records:',
    '  ns1: { type: A, value: 127.0.0.1 }',
  ];
  for (let i = 0; i < names; i++) lines.push(`  h${i}: { type: A, value: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} }`);
  return lines.join('\n') + '\n';
}
