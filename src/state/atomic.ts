// The one durable write (STYLE habit 7): temp file in the same folder, write, fsync, rename, fsync the folder.
// A reader therefore sees the old file or the new one, never a torn mix, even across a crash or power loss.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, chmod, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Mode for files holding private material. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode for public files (BIND writes .key files 0644). */
export const PUBLIC_FILE_MODE = 0o644;
/** Mode for state folders. */
export const STATE_DIR_MODE = 0o700;

/** Prefix of temp files made by writeFileAtomic; loaders ignore names that start with it. */
export const TEMP_PREFIX = '.tmp-';

/** fsyncs a folder so a rename or a new entry in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` (and parents) if needed and makes sure `dir` itself has `mode` (default 0700). */
export async function ensureDir(dir: string, mode: number = STATE_DIR_MODE): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const st = await stat(dir);
  if ((st.mode & 0o777) !== mode) await chmod(dir, mode);
}

/**
 * Writes `data` to `path` atomically. The temp file is created with `mode` from the start (never a
 * moment with wider permissions), and the folder is fsynced after the rename.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode: number = PUBLIC_FILE_MODE): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.chmod(mode); // the umask may have narrowed or the mode argument be ignored on some systems
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}
