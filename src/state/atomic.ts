// The one durable write (STYLE habit 7): temp file in the same folder, write, fsync, rename, fsync the folder.
// A reader therefore sees the old file or the new one, never a torn mix, even across a crash or power loss.
import { randomBytes } from 'node:crypto';
import { access, constants, lstat, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Mode for files holding private material. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode for public files (BIND writes .key files 0644). */
export const PUBLIC_FILE_MODE = 0o644;
/** Mode for state folders. */
export const STATE_DIR_MODE = 0o700;

/** Prefix of temp files made by writeFileAtomic; loaders ignore names that start with it. */
export const TEMP_PREFIX = '.tmp-';

/**
 * The name of a temp file or folder for `name` in its folder: the prefix, the name, the writing process's id
 * (so a later start can tell an abandoned one, sweepTemp) and 48 random bits.
 */
export function tempName(name: string): string {
  return `${TEMP_PREFIX}${name}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

const TEMP_NAME = /^\.tmp-.*-(\d+)-[0-9a-f]{12}$/;
/** When this process started (ms since the epoch): a temp file of our own pid older than this is a former process's. */
const STARTED = Date.now() - process.uptime() * 1000;

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

/**
 * Removes the temp files and folders (tempName) in `dir` that a killed process left behind: a SIGKILL or a
 * power cut between writeFileAtomic's open and rename leaves one, never a torn real file, and readers skip
 * them, but each can be as large as a zone. One is abandoned when its process is gone, or has our pid but
 * predates our start (a restart in a container reuses pids); another running process's temp file stays.
 * Returns the paths removed; a folder that does not exist is nothing to sweep.
 */
export async function sweepTemp(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    const pid = Number(m[1]);
    if (pid === process.pid) {
      const st = await lstat(path).catch(() => undefined);
      if (!st || st.mtimeMs >= STARTED) continue;
    } else if (running(pid)) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/** fsyncs a folder so a rename or a new entry in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A state folder tandem cannot or must not use; the message says which folder, why, and how to fix it. */
export class StateDirError extends Error {
  constructor(readonly dir: string, reason: string) {
    super(`state folder ${dir}: ${reason}`);
    this.name = 'StateDirError';
  }
}

/**
 * Creates `dir` (and parents) with `mode` (default 0700) if it is missing. An existing folder keeps its mode:
 * tandem never changes the permissions an operator chose, but refuses a folder that group or others may
 * write, since whoever can write there can replace zone keys.
 */
export async function ensureDir(dir: string, mode: number = STATE_DIR_MODE): Promise<void> {
  let created: string | undefined;
  try {
    created = await mkdir(dir, { recursive: true, mode });
  } catch (err) {
    throw folderError(dir, err, 'create');
  }
  if (created !== undefined) return; // made now, with `mode` narrowed by the umask at most
  const st = await stat(dir);
  if (!st.isDirectory()) throw new StateDirError(dir, 'is not a folder');
  const open = st.mode & 0o022;
  if (open) {
    const who = open === 0o022 ? 'its group and everyone' : open === 0o020 ? 'its group' : 'everyone';
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new StateDirError(dir, `is writable by ${who} (mode ${mode}) and holds private keys, so tandem will not use it: run \`chmod 700 ${dir}\``);
  }
}

/**
 * The state folder a server uses: created (0700) when missing, refused when others may write it (ensureDir),
 * and checked writable by this process before anything is loaded, so a folder owned by another user fails
 * here with its name rather than later with a raw EACCES.
 */
export async function checkStateDir(dir: string): Promise<void> {
  await ensureDir(dir);
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw folderError(dir, err, 'write');
  }
}

function folderError(dir: string, err: unknown, action: 'create' | 'write'): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const user = typeof process.getuid === 'function' ? `this user (uid ${process.getuid()})` : 'this user';
  switch (code) {
    case 'EACCES': case 'EPERM':
      return new StateDirError(dir, action === 'create'
        ? `cannot be created by ${user}: permission denied in a parent folder; create it for this user (mkdir, chown) or choose another --state`
        : `is not writable by ${user}; give it to this user (chown) or choose another --state`);
    case 'EROFS':
      return new StateDirError(dir, `cannot be ${action === 'create' ? 'created' : 'written'}: the file system is read-only; choose another --state`);
    case 'ENOTDIR': case 'EEXIST':
      return new StateDirError(dir, 'cannot be created: a file is in the way (the path or one of its parents is not a folder)');
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * Writes `data` to `path` atomically. The temp file is created with `mode` from the start (never a
 * moment with wider permissions), and the folder is fsynced after the rename.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode: number = PUBLIC_FILE_MODE): Promise<void> {
  await commitTemp(await writeTemp(path, data, mode), path);
}

/**
 * The first half of writeFileAtomic: `data` (or its chunks in order) in a temp file beside `path` (tempName), fsynced; returns the temp
 * file's path for commitTemp. A thread that made the bytes can write them itself (offthread.ts), so they never
 * reach the heap that commits. Nothing is left behind when it fails.
 */
export async function writeTemp(path: string, data: Uint8Array | string | Iterable<Uint8Array>, mode: number = PUBLIC_FILE_MODE): Promise<string> {
  const tmp = join(dirname(path), tempName(basename(path)));
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await fh.writeFile(data);
      else {
        // Chunks one after another, each made when the one before is written (a large file never whole in memory).
        for (const chunk of data) {
          for (let off = 0; off < chunk.length;) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        }
      }
      await fh.chmod(mode); // the umask may have narrowed or the mode argument be ignored on some systems
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return tmp;
}

/** The second half: the temp file renamed over `path`, the folder fsynced; the temp file is removed when it fails. */
export async function commitTemp(tmp: string, path: string): Promise<void> {
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** A write that failed: the file and the reason in words (`code` is the errno name, e.g. ENOSPC). */
export class WriteError extends Error {
  readonly code: string | undefined;
  constructor(readonly file: string, override readonly cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code && code in WRITE_REASONS ? `${WRITE_REASONS[code]} (${code})` : (cause as Error).message ?? String(cause);
    super(`${file}: ${why}`);
    this.name = 'WriteError';
    this.code = code;
  }
}

const WRITE_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EROFS: 'read-only file system',
  EACCES: 'permission denied', EPERM: 'permission denied', EIO: 'input/output error', ENOENT: 'its folder is gone',
};

/**
 * Writes several files, each with writeFileAtomic, in order, as one change: when one fails (a full disk, a
 * folder gone read-only), the files written before it get their old bytes back (or are removed when they
 * did not exist), so a refused change leaves every file as it was; then throws a WriteError naming the file
 * that failed. `old` spares reading a file whose current text the caller holds. A crash between two of the
 * writes is not undone here: each file is whole, old or new.
 */
export async function writeFilesAtomic(files: readonly ({ file: string; text: string | Uint8Array; old?: string } | { file: string; tmp: string; old?: string })[]): Promise<void> {
  const done: { file: string; old: string | undefined }[] = [];
  for (const [i, f] of files.entries()) {
    let old = f.old;
    try {
      // The last file's old bytes are never needed: nothing is written after it that could fail.
      if (old === undefined && i < files.length - 1) old = await readFile(f.file, 'utf8').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err; });
      // A file given as a temp file written already (writeTemp) is committed; the others are written.
      if ('tmp' in f) await commitTemp(f.tmp, f.file);
      else await writeFileAtomic(f.file, f.text);
    } catch (err) {
      for (const w of done.reverse()) {
        // Best effort: the space the failed write needed is free again once its temp file is gone.
        await (w.old === undefined ? rm(w.file, { force: true }) : writeFileAtomic(w.file, w.old)).catch(() => undefined);
      }
      for (const later of files.slice(i + 1)) if ('tmp' in later) await rm(later.tmp, { force: true });
      throw new WriteError(f.file, err);
    }
    done.push({ file: f.file, old });
  }
}
