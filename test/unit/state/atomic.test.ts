import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../../../src/state/atomic.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tandem-atomic-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes the bytes and leaves no temp file behind', async () => {
    const p = join(dir, 'a.txt');
    await writeFileAtomic(p, 'one');
    await writeFileAtomic(p, new TextEncoder().encode('two'));
    expect(readFileSync(p, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });

  it('private files get mode 0600 even when replacing a wider file', async () => {
    const p = join(dir, 'k.private');
    await writeFileAtomic(p, 'public', 0o644);
    expect(statSync(p).mode & 0o777).toBe(0o644);
    await writeFileAtomic(p, 'secret', 0o600);
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('a failed write leaves the old file intact and no temp file', async () => {
    const p = join(dir, 'sub', 'x');
    await expect(writeFileAtomic(p, 'x')).rejects.toThrow(/ENOENT/);
    await ensureDir(join(dir, 'ro'));
    await writeFileAtomic(join(dir, 'ro', 'f'), 'old');
    await expect(writeFileAtomic(join(dir, 'ro', 'f', 'g'), 'new')).rejects.toThrow();
    expect(readFileSync(join(dir, 'ro', 'f'), 'utf8')).toBe('old');
    expect(readdirSync(join(dir, 'ro'))).toEqual(['f']);
  });
});

describe('ensureDir', () => {
  it('creates state folders with mode 0700 and narrows an existing wider folder', async () => {
    const d = join(dir, 's', 't');
    await ensureDir(d);
    expect(statSync(d).mode & 0o777).toBe(0o700);
    chmodSync(d, 0o755);
    await ensureDir(d);
    expect(statSync(d).mode & 0o777).toBe(0o700);
  });
});
