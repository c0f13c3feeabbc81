import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStateDir, ensureDir, StateDirError, sweepTemp, tempName, writeFileAtomic, writeFilesAtomic, WriteError } from '../../../src/state/atomic.js';

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
  it('creates state folders with mode 0700', async () => {
    const d = join(dir, 's', 't');
    await ensureDir(d);
    expect(statSync(d).mode & 0o777).toBe(0o700);
  });

  it('leaves the mode of an existing folder as the operator set it (no silent chmod)', async () => {
    const d = join(dir, 'mine');
    mkdirSync(d);
    chmodSync(d, 0o750);
    await ensureDir(d);
    expect(statSync(d).mode & 0o777).toBe(0o750);
  });

  it('refuses a folder group or others may write, saying how to fix it, and changes nothing', async () => {
    for (const [mode, who] of [[0o777, 'its group and everyone'], [0o770, 'its group'], [0o703, 'everyone']] as const) {
      const d = join(dir, `open-${mode.toString(8)}`);
      mkdirSync(d);
      chmodSync(d, mode);
      const err = await ensureDir(d).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(StateDirError);
      expect((err as Error).message).toBe(`state folder ${d}: is writable by ${who} (mode 0${mode.toString(8)}) and holds private keys, so tandem will not use it: run \`chmod 700 ${d}\``);
      expect(statSync(d).mode & 0o777).toBe(mode);
    }
  });

  it('a file in the way is named, not a raw EEXIST/ENOTDIR', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    await expect(ensureDir(join(dir, 'file', 'state'))).rejects.toThrow(`state folder ${join(dir, 'file', 'state')}: cannot be created: a file is in the way`);
    await expect(checkStateDir(join(dir, 'file'))).rejects.toThrow(/state folder .*file: cannot be created: a file is in the way/);
  });
});

describe('sweepTemp (start-up after a kill)', () => {
  it('removes the temp files and folders of processes that are gone, keeps live ones and real files', async () => {
    const { spawnSync } = await import('node:child_process');
    // A pid that surely ran and is gone: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, 'zone.yaml'), 'real');
    writeFileSync(join(dir, `.tmp-zone.yaml-${dead}-0123456789ab`), 'half');
    mkdirSync(join(dir, `.tmp-example.com-${dead}-abcdefabcdef`));
    writeFileSync(join(dir, `.tmp-example.com-${dead}-abcdefabcdef`, 'Kexample.com.+013+00001.key'), 'x');
    writeFileSync(join(dir, `.tmp-zone.yaml-${process.ppid}-0123456789ab`), 'a live process is writing');
    writeFileSync(join(dir, `.tmp-zone.yaml-${process.pid}-0123456789ab`), 'ours, being written now');
    writeFileSync(join(dir, '.tmp-not-ours'), 'another tool');
    const removed = await sweepTemp(dir);
    expect(removed.map((p) => p.slice(dir.length + 1)).sort()).toEqual([`.tmp-example.com-${dead}-abcdefabcdef`, `.tmp-zone.yaml-${dead}-0123456789ab`]);
    expect(readdirSync(dir).sort()).toEqual(['.tmp-not-ours', `.tmp-zone.yaml-${process.pid}-0123456789ab`, `.tmp-zone.yaml-${process.ppid}-0123456789ab`, 'zone.yaml'].sort());
  });

  it('a temp file with our pid that predates this process is a former process\'s (pids are reused after a restart)', async () => {
    const { utimesSync } = await import('node:fs');
    const f = join(dir, `.tmp-zone.yaml-${process.pid}-0123456789ab`);
    writeFileSync(f, 'half');
    const old = new Date(Date.now() - process.uptime() * 1000 - 60_000);
    utimesSync(f, old, old);
    expect(await sweepTemp(dir)).toEqual([f]);
  });

  it('the temp names writeFileAtomic and the key store use are the ones it sweeps', () => {
    expect(tempName('example.com.yaml')).toMatch(new RegExp(`^\\.tmp-example\\.com\\.yaml-${process.pid}-[0-9a-f]{12}$`));
  });

  it('a missing folder is nothing to sweep', async () => {
    expect(await sweepTemp(join(dir, 'none'))).toEqual([]);
  });
});

describe('writeFilesAtomic (one change, several files)', () => {
  it('writes every file in order', async () => {
    await writeFilesAtomic([{ file: join(dir, 'a'), text: 'A' }, { file: join(dir, 'b'), text: 'B' }]);
    expect([readFileSync(join(dir, 'a'), 'utf8'), readFileSync(join(dir, 'b'), 'utf8')]).toEqual(['A', 'B']);
  });

  it('a write that fails gives the files written before it their old bytes back, removes new ones, and names the file', async () => {
    writeFileSync(join(dir, 'admin.json'), 'old admin');
    const err = await writeFilesAtomic([
      { file: join(dir, 'admin.json'), text: 'new admin' },
      { file: join(dir, 'created'), text: 'new file' },
      { file: join(dir, 'gone', 'zone.yaml'), text: 'new zone' },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect((err as WriteError).file).toBe(join(dir, 'gone', 'zone.yaml'));
    expect((err as WriteError).code).toBe('ENOENT');
    expect((err as Error).message).toMatch(/gone\/zone\.yaml: its folder is gone \(ENOENT\)/);
    expect(readFileSync(join(dir, 'admin.json'), 'utf8')).toBe('old admin');
    expect(readdirSync(dir)).toEqual(['admin.json']);
  });

  it('ENOSPC reads as a full disk', () => {
    const e = new WriteError('/z/example.com.yaml', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    expect(e.message).toBe('/z/example.com.yaml: no space left on device (ENOSPC)');
  });
});
