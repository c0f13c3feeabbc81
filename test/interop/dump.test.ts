// `tandem dump --signed` writes the whole signed zone with a complete NSEC (or, for nsec3-chain, NSEC3) chain;
// ldns-verify-zone decides.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../helpers/dig.js';
import { tandem } from '../helpers/cli.js';
import { exampleZoneDir, withDenial } from '../helpers/zones.js';

const run = promisify(execFile);

async function verify(zoneFile: string, dsFile: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run('ldns-verify-zone', ['-k', dsFile, zoneFile]);
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe('tandem dump --signed passes ldns-verify-zone', () => {
  let dir: string;
  beforeAll(async () => {
    requireTool('ldns-verify-zone', 'ldnsutils');
    dir = await mkdtemp(join(tmpdir(), 'tandem-dump-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // Per-answer modes dump with an NSEC chain; the chain modes with the chain they answer from.
  for (const mode of ['compact', 'nsec3', 'nsec3-chain', 'nsec-chain'] as const) {
    const nsec3 = mode === 'nsec3-chain';
    it(`a zone configured for ${mode} denial dumps as a complete ${nsec3 ? 'NSEC3' : 'NSEC'}-signed zone`, async () => {
      const zones = await exampleZoneDir(withDenial(mode));
      const state = join(dir, `state-${mode}`);
      const dump = await tandem(['dump', '--signed', 'example.com', '--zones', zones, '--state', state]);
      expect(dump.code, dump.stderr).toBe(0);
      const ds = await tandem(['ds', 'example.com', '--state', state]);
      const zoneFile = join(dir, `${mode}.zone`);
      const dsFile = join(dir, `${mode}.ds`);
      await writeFile(zoneFile, dump.stdout);
      await writeFile(dsFile, ds.stdout);
      if (nsec3) {
        expect(dump.stdout).toMatch(/\tNSEC3\t1 0 0 - /);
        expect(dump.stdout).toMatch(/\tNSEC3PARAM\t1 0 0 -/);
        expect(dump.stdout).not.toMatch(/\tNSEC\t/);
      } else {
        expect(dump.stdout).toMatch(/\tNSEC\t/);
        expect(dump.stdout).not.toMatch(/NSEC3/);
      }
      const ok = await verify(zoneFile, dsFile);
      expect(ok.out).toMatch(/Zone is verified and complete/);
      expect(ok.code).toBe(0);

      // Negative control: one corrupted signature is reported as bogus.
      const lines = dump.stdout.split('\n');
      const i = lines.findIndex((l) => /^www\.example\.com\.\t\d+\tIN\tRRSIG\tA /.test(l));
      // Change one base64 character in the middle of the signature (the end holds padding bits ldns would reject).
      const sigAt = lines[i].lastIndexOf(' ') + 10;
      lines[i] = lines[i].slice(0, sigAt) + (lines[i][sigAt] === 'A' ? 'B' : 'A') + lines[i].slice(sigAt + 1);
      const bad = join(dir, `${mode}-bad.zone`);
      await writeFile(bad, lines.join('\n'));
      const r = await verify(bad, dsFile);
      expect(r.out).toMatch(/Bogus DNSSEC signature for www\.example\.com\./);
    });
  }
});
