// dnsperf 2.10 runner and output parsers. 2.10 has no latency histogram (`-O latency-histogram` is
// "invalid long option"), so percentiles come from a separate verbose run (`-v`: one line per response
// with its latency), parsed as a stream, at a fixed offered load (`-Q`) well below saturation: printing a
// line per response caps dnsperf itself at some 40-70k q/s on these cores, so a saturated verbose run
// would measure the client's queue, not the server.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { run, track } from './proc.mjs';

/** The lab notes' best settings on these 2 cores: 10 clients, at most 100 outstanding queries. */
export const DNSPERF_ARGS = ['-c', '10', '-q', '100'];

export function dnsperfArgs({ port, file, seconds, dnssecOk, verbose = false, maxQps }) {
  const a = ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), ...DNSPERF_ARGS];
  if (maxQps) a.push('-Q', String(Math.round(maxQps)));
  if (dnssecOk) a.push('-D');
  if (verbose) a.push('-v');
  return a;
}

/** Parses dnsperf's "Statistics:" block. Throws when the block is missing (dnsperf failed). */
export function parseDnsperf(text) {
  const num = (re) => { const m = re.exec(text); return m ? Number(m[1]) : undefined; };
  const qps = num(/Queries per second:\s+([\d.]+)/);
  if (qps === undefined) throw new Error(`dnsperf output has no statistics:\n${text.slice(-1500)}`);
  const lat = /Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/.exec(text);
  const rcodes = {};
  const rc = /Response codes:\s+(.*)/.exec(text);
  if (rc) for (const m of rc[1].matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[m[1]] = Number(m[2]);
  return {
    qps,
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    runTimeS: num(/Run time \(s\):\s+([\d.]+)/),
    latencyAvgMs: lat ? Number(lat[1]) * 1000 : undefined,
    latencyMinMs: lat ? Number(lat[2]) * 1000 : undefined,
    latencyMaxMs: lat ? Number(lat[3]) * 1000 : undefined,
    latencyStdDevMs: (num(/Latency StdDev \(s\):\s+([\d.]+)/) ?? NaN) * 1000,
    responseSize: num(/Average packet size:\s+request \d+, response (\d+)/),
    rcodes,
  };
}

/** One measured dnsperf run; returns the parsed statistics plus the raw text. */
export async function dnsperf(opts) {
  const r = await run('dnsperf', dnsperfArgs(opts), { timeoutMs: (opts.seconds + 60) * 1000 });
  const text = r.stdout + r.stderr;
  return { ...parseDnsperf(text), raw: text };
}

/** Percentile by nearest rank over a sorted Float64Array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** A verbose run (`-v`, rate-limited with `maxQps`): every response's latency, summarised as percentiles. */
export function dnsperfLatency(opts) {
  return new Promise((resolve, reject) => {
    const child = track(spawn('dnsperf', dnsperfArgs({ ...opts, verbose: true }), { stdio: ['ignore', 'pipe', 'pipe'] }));
    let buf = new Float64Array(1 << 20);
    let n = 0;
    let timeouts = 0;
    let tailText = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), (opts.seconds + 60) * 1000);
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      if (line.startsWith('> ')) {
        // "> NOERROR name A 0.000142"; a timeout is "> T name A" (no latency)
        const sp = line.lastIndexOf(' ');
        const v = Number(line.slice(sp + 1));
        if (line.startsWith('> T ') || !Number.isFinite(v)) { timeouts++; return; }
        if (n === buf.length) { const nb = new Float64Array(buf.length * 2); nb.set(buf); buf = nb; }
        buf[n++] = v * 1000;
      } else {
        tailText += line + '\n';
      }
    });
    child.stderr.on('data', (d) => { tailText += d; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`dnsperf -v exited ${code}: ${tailText.slice(-1000)}`));
      const sorted = buf.subarray(0, n).sort();
      resolve({
        responses: n,
        timeouts,
        p50Ms: percentile(sorted, 50),
        p90Ms: percentile(sorted, 90),
        p99Ms: percentile(sorted, 99),
        p999Ms: percentile(sorted, 99.9),
        maxMs: n ? sorted[n - 1] : undefined,
        offeredQps: opts.maxQps,
        qpsVerbose: (() => { try { return parseDnsperf(tailText).qps; } catch { return undefined; } })(),
      });
    });
  });
}
