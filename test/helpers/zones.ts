// Zone folders for tests: the shipped example zone with settings changed.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp zones folder holding zones/example.com.yaml with `edit` applied to its text. */
export async function exampleZoneDir(edit: (text: string) => string = (t) => t): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-zones-'));
  const text = await readFile('zones/example.com.yaml', 'utf8');
  await writeFile(join(dir, 'example.com.yaml'), edit(text));
  return dir;
}

export const withDenial = (mode: 'compact' | 'nsec' | 'nsec3') => (t: string) =>
  t.replace(/denial: compact\b/, `denial: ${mode}`);
