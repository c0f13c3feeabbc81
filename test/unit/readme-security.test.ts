// README "Security" points at the tests that prove each promise: every file it names exists, every test name it
// quotes is in that file, and every fuzz target it names exists, so the section cannot drift from the suite.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { targets } from '../fuzz/targets.js';

const root = join(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = /^## Security\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';

describe('README "Security"', () => {
  it('exists, with promises and what is not promised', () => {
    expect(section).toMatch(/\| promise \| proved by \|/);
    expect(section).toMatch(/does \*\*not\*\* promise/);
  });

  it('every test file it names exists, and every quoted test name is in its file', () => {
    const refs = [...section.matchAll(/`(test\/[^`]+?\.test\.ts)`(?: "([^"]+)")?/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, file, name] of refs) {
      expect(existsSync(join(root, file)), file).toBe(true);
      if (name) expect(readFileSync(join(root, file), 'utf8'), `${file}: "${name}"`).toContain(name);
    }
  });

  it('every fuzz target it names exists', () => {
    const named = [...section.matchAll(/fuzz targets? ((?:`[a-z-]+`(?:, )?)+)/g)].flatMap((m) => [...m[1].matchAll(/`([a-z-]+)`/g)].map((x) => x[1]));
    expect(named.length).toBeGreaterThan(0);
    for (const n of named) expect(targets.map((t) => t.name), n).toContain(n);
  });
});
