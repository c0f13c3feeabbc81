// Sends one RFC 2136 UPDATE with the real clients, nsupdate (BIND) and knsupdate (Knot), and reads the status
// they print. Every run is bounded (the tool is killed after `timeoutMs`).
import { execFile } from 'node:child_process';

export type UpdateTool = 'nsupdate' | 'knsupdate';
export interface UpdateSent {
  /** The rcode the server answered (NOERROR, REFUSED, ...), or `no answer: <output>`. */
  status: string;
  out: string;
  /** How long the tool ran, ms. */
  ms: number;
}

export interface UpdateOptions {
  /** `-y hmac-sha256:NAME:SECRET`; absent: unsigned. */
  key?: { name: string; secret: string; algorithm?: string };
  /** nsupdate -v / knsupdate -v: TCP instead of UDP. */
  tcp?: boolean;
  timeoutMs?: number;
}

/** One UPDATE of `zone` at `target` by `tool` with the script `lines` (`update add ...`, `prereq ...`). */
export function sendUpdate(tool: UpdateTool, target: { host: string; port: number }, zone: string, lines: string[], opts: UpdateOptions = {}): Promise<UpdateSent> {
  const args = [...(opts.key ? ['-y', `${opts.key.algorithm ?? 'hmac-sha256'}:${opts.key.name}:${opts.key.secret}`] : []), ...(opts.tcp ? ['-v'] : [])];
  const script = [`server ${target.host} ${target.port}`, `zone ${zone}`, ...lines, 'send', 'answer', ''].join('\n');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(tool, args, { timeout: opts.timeoutMs ?? 20_000 }, (_err, stdout, stderr) => {
      const out = `${stdout}\n${stderr}`;
      const m = /status[:]? ([A-Z]+)/.exec(out) ?? /update failed: ([A-Z]+)/.exec(out);
      resolve({ status: m?.[1] ?? `no answer: ${out}`, out, ms: Date.now() - started });
    });
    child.stdin!.end(script);
  });
}
