// The repository as a user gets it, for tests that build, pack or follow the README in a temporary copy and so
// never write into the checkout the suite runs from.
import { chmod, copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runChecked } from './procs.js';

export const REPO = join(import.meta.dirname, '../..');

/** Files a clone of the current work would hold: tracked plus new, not ignored (git ls-files), relative paths. */
export async function checkoutFiles(): Promise<string[]> {
  const out = await runChecked('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO });
  const files: string[] = [];
  for (const f of out.split('\0').filter(Boolean)) {
    // A file deleted in the work tree but still tracked is not part of the work.
    if (await stat(join(REPO, f)).then((s) => s.isFile(), () => false)) files.push(f);
  }
  return files;
}

/** Copies `files` (relative to the repository) into `dest`, keeping their modes. */
export async function copyFiles(files: string[], dest: string): Promise<void> {
  for (const f of files) {
    await mkdir(dirname(join(dest, f)), { recursive: true });
    await copyFile(join(REPO, f), join(dest, f));
    await chmod(join(dest, f), (await stat(join(REPO, f))).mode & 0o777);
  }
}

/**
 * A temporary clone of the current work in `dest`: its files, committed in a fresh git repository, so
 * `git status --porcelain` there shows exactly what a test changed.
 */
export async function cloneWork(dest: string): Promise<void> {
  await copyFiles(await checkoutFiles(), dest);
  const git = (...args: string[]) => runChecked('git', ['-c', 'user.name=tandem test', '-c', 'user.email=test@tandem.invalid', ...args], { cwd: dest, timeoutMs: 60_000 });
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'work under test');
}
