// Turns the raw results into bench/results/latest.md and a hand-written SVG bar chart (no dependencies).

export const WORKLOADS = [
  { id: 'pos-do', label: '(a) existing names, DO=1', short: 'existing, DO=1' },
  { id: 'nx-do', label: '(b) random non-existent names, DO=1', short: 'random NX, DO=1' },
  { id: 'pos-nodo', label: '(c) existing names, no DO', short: 'existing, no DO' },
];

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmtInt = (x) => (x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const fmtK = (x) => (x === undefined || !Number.isFinite(x) ? '–' : x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : Math.round(x).toLocaleString('en-US'));
const fmtMs = (x) => (x === undefined || !Number.isFinite(x) ? '–' : x < 1 ? x.toFixed(3) : x.toFixed(2));
const fmtRatio = (a, b) => (a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(2)}×`);
const fmtS = (ms) => (ms === undefined || !Number.isFinite(ms) ? '–' : (ms / 1000).toFixed(ms < 10_000 ? 2 : 1));
const fmtMiB = (b) => (b === undefined || !Number.isFinite(b) ? '–' : (b / 1048576).toFixed(1));

/** The summary of one (server, workload): medians over the measured runs. */
export function summarize(runs) {
  return {
    qps: median(runs.map((r) => r.qps)),
    qpsMin: Math.min(...runs.map((r) => r.qps)),
    qpsMax: Math.max(...runs.map((r) => r.qps)),
    latencyAvgMs: median(runs.map((r) => r.latencyAvgMs)),
    latencyMinMs: median(runs.map((r) => r.latencyMinMs)),
    latencyMaxMs: median(runs.map((r) => r.latencyMaxMs)),
    lostPct: median(runs.map((r) => (r.sent ? (100 * r.lost) / r.sent : 0))),
    responseSize: median(runs.map((r) => r.responseSize)),
  };
}

function rcodeText(rcodes) {
  const total = Object.values(rcodes ?? {}).reduce((a, b) => a + b, 0);
  if (!total) return '–';
  return Object.entries(rcodes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${((100 * v) / total).toFixed(0)}%`).join(', ');
}

export function markdown(res) {
  const L = [];
  const env = res.environment;
  L.push('# tandem benchmark results', '');
  L.push(`Run ${res.startedAt} (${(res.durationMs / 60000).toFixed(1)} min): \`${res.command}\``, '');
  L.push(`Machine: ${env.cpu}, ${env.cores} cores, ${env.memGiB} GiB RAM; ${env.os}. Node ${env.node}; ${env.versions.openssl ?? 'openssl ?'}; ` +
    `Knot ${env.versions.knot ?? '?'}; PowerDNS ${env.versions.pdns ?? '?'}; dnsperf ${env.versions.dnsperf ?? '?'}.`);
  L.push('The load generator (dnsperf) runs on the same cores as the server under test: every throughput figure is ' +
    '"server + client on the same cores". Compare servers only within one run (runs vary by up to ±25 %).');
  if (env.loadAvgStart) L.push(`Load average (1, 5, 15 min) at the start ${env.loadAvgStart.join(', ')}, at the end ${env.loadAvgEnd?.join(', ') ?? '?'}: ` +
    `on ${env.cores} cores, anything above about 1 means other work shared the machine with this run.`);
  L.push('');
  for (const n of res.notes ?? []) L.push(`- ${n}`);
  if (res.notes?.length) L.push('');

  if (res.signing) {
    const s = res.signing;
    L.push('## Signing (ECDSA P-256, algorithm 13)', '');
    L.push(`TBS of ${s.tbsBytes} bytes; signatures/s over ${s.seconds} s per figure, median of ${s.rounds.length} rounds (range in brackets); each round runs ` +
      'tandem and openssl one after the other, and the ratio is the median of the per-round ratios. openssl signs a ready digest; ' +
      'tandem hashes the TBS (SHA-256) and signs through its async `Signer` contract.', '');
    L.push('| signer | processes / threads | signatures/s | ÷ openssl (same parallelism) |', '|---|---:|---:|---:|');
    const fig = (x) => (x ? `${fmtInt(x.signPerSec)}${x.rounds > 1 ? ` (${fmtK(x.min)}–${fmtK(x.max)})` : ''}` : '–');
    const o1 = s.openssl1?.signPerSec;
    if (s.tandem1) L.push(`| tandem \`NodeSigner\` (node:crypto) | 1 thread | ${fig(s.tandem1)} | ${s.ratios ? `${s.ratios.oneCore.toFixed(2)}×` : '–'} |`);
    if (s.tandemN) L.push(`| tandem \`NodeSigner\` (node:crypto) | ${s.cores} worker_threads | ${fig(s.tandemN)} | ${s.ratios ? `${s.ratios.allCores.toFixed(2)}×` : '–'} |`);
    if (s.noble1) L.push(`| @noble/curves p256 (RFC 6979, pure JS) | 1 thread | ${fig(s.noble1)} | ${fmtRatio(s.noble1.signPerSec, o1)} |`);
    if (s.openssl1) L.push(`| \`${s.openssl1.command}\` | 1 process | ${fig(s.openssl1)} | 1.00× |`);
    if (s.opensslMulti) L.push(`| \`${s.opensslMulti.command}\` | ${s.cores} processes | ${fig(s.opensslMulti)} | 1.00× |`);
    if (s.skipped) L.push('', `Skipped: ${s.skipped}`);
    L.push('');
  }

  if (res.dns) {
    const d = res.dns;
    L.push('## DNS throughput (dnsperf on loopback, UDP, A queries)', '');
    L.push(`Zone \`bench.test.\` with ${fmtInt(d.zoneRecords)} records (${fmtInt(d.zoneNames)} names with one A record each, ` +
      'apex SOA/NS, two nameserver addresses, one wildcard `*.w`), the same data in every server. ' +
      `\`dnsperf ${d.dnsperfArgs}\`, ${d.seconds} s per run, median of ${d.runs} measured runs after a ${d.warmupSeconds} s warm-up; ` +
      '(b) uses a fresh file of random names for every run (warm-up included). Average, min and max latency are dnsperf\'s, from the ' +
      `saturated measured runs. dnsperf 2.10 has no latency histogram, so p50/p90/p99 come from one extra verbose run (\`dnsperf -v -Q ${d.latencyQps}\`, ${d.latencySeconds} s) ` +
      `at an offered load of ${fmtInt(d.latencyQps)} q/s (or half the server's measured rate, if lower): the service time at moderate load, ` +
      'not under saturation (printing every response caps dnsperf itself at 40-70k q/s here).', '');
    L.push('| server | how it signs |', '|---|---|');
    for (const s of d.servers) L.push(`| ${s.label} | ${s.signing}${s.workers ? ` (${s.workers} worker${s.workers > 1 ? 's' : ''})` : ''} |`);
    L.push('');
    const tandem = d.servers.find((s) => s.id === 'tandem');
    const peers = d.servers.filter((s) => s.id !== 'tandem');
    for (const w of WORKLOADS) {
      L.push(`### ${w.label}`, '');
      if (w.id === 'nx-do' && tandem?.workloads?.[w.id]) {
        const kn3 = d.servers.find((s) => s.id === 'knot-nsec3');
        L.push('tandem answers these NOERROR: compact denial (RFC 9824) proves non-existence with an NSEC at the query name whose ' +
          'bitmap holds NXNAME (TYPE128) instead of an NXDOMAIN rcode; Knot and PowerDNS answer NXDOMAIN with NSEC proofs' +
          (kn3 ? `, ${kn3.label} with NSEC3 proofs from its chain signed at load (the reference for tandem's nsec3-chain below).` : '.'), '');
      }
      L.push('| server | queries/s (median) | runs min–max | avg latency ms | min ms | max ms | p50 ms | p90 ms | p99 ms | (at q/s) | lost | response codes | tandem ÷ server |');
      L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|');
      for (const s of d.servers) {
        const r = s.workloads?.[w.id];
        if (!r && !s.error) continue; // not measured for this workload (the floor: (a) and (c) only; Knot NSEC3: (b) only)
        if (!r) { L.push(`| ${s.label} | ${s.error ? `failed: ${s.error.split('\n')[0].slice(0, 120)}` : '–'} ||||||||||||`); continue; }
        const t = tandem?.workloads?.[w.id]?.summary?.qps;
        L.push(`| ${s.label} | ${fmtInt(r.summary.qps)} | ${fmtK(r.summary.qpsMin)}–${fmtK(r.summary.qpsMax)} | ${fmtMs(r.summary.latencyAvgMs)} | ${fmtMs(r.summary.latencyMinMs)} | ${fmtMs(r.summary.latencyMaxMs)} | ` +
          `${fmtMs(r.latency?.p50Ms)} | ${fmtMs(r.latency?.p90Ms)} | ${fmtMs(r.latency?.p99Ms)} | ${fmtK(r.latency?.offeredQps)} | ${r.summary.lostPct?.toFixed(2) ?? '–'} % | ${rcodeText(r.runs.at(-1)?.rcodes)} | ${s.id === 'tandem' ? '1.00×' : fmtRatio(t, r.summary.qps)} |`);
      }
      L.push('');
    }
    if (tandem && peers.length) {
      L.push('### tandem ÷ peer (median queries/s)', '');
      const fl = peers.find((p) => p.id === 'floor');
      if (fl) {
        L.push(`The Node floor is a bare Node UDP server (\`bench/lib/floor.mjs\`) with tandem's worker count (${fl.workers}), answering every query ` +
          `with one fixed ${fl.answerBytes ?? '?'}-byte packet (tandem's median (a) response size in this run, EDNS-padded) and copying only the query ID: ` +
          `no parsing, lookup or encoding; it reads and answers ${fl.io === 'batched' ? 'in batches (recvmmsg/sendmmsg) through the addon and code tandem uses (README "UDP in batches")' : 'through Node\'s dgram, one call per datagram'}. ` +
          'tandem ÷ floor is the share of what that UDP path and dnsperf allow on these cores that tandem reaches.', '');
      }
      L.push(`| workload | ${peers.map((p) => `÷ ${p.label}`).join(' | ')} |`, `|---|${peers.map(() => '---:').join('|')}|`);
      for (const w of WORKLOADS) {
        const t = tandem.workloads?.[w.id]?.summary?.qps;
        L.push(`| ${w.short} | ${peers.map((p) => fmtRatio(t, p.workloads?.[w.id]?.summary?.qps)).join(' | ')} |`);
      }
      L.push('');
    }
    L.push('![queries per second per workload and server](throughput.svg)', '');
    if (d.denialModes?.length) denialSection(L, d, tandem, peers.filter((p) => p.workloads?.['nx-do']));
  }

  if (res.scale) {
    const sc = res.scale;
    L.push('## Zone scale: load time and memory', '');
    L.push('Generated zones of N names with one A record each (+6 records). "prepare" is offline work before the server starts ' +
      '(PowerDNS: schema, `zone2sql --gsqlite` import, `pdnsutil secure-zone` + `rectify-zone`); "start → signed answer" runs from spawning the ' +
      'server to the first `dig +dnssec SOA` answer carrying an RRSIG (Knot signs the whole zone in that time). ' +
      `Memory is the resident set (VmRSS) of the server's process tree once it answers${sc.tandemWorkers ? `; tandem runs with --workers ${sc.tandemWorkers}` : ''}.`, '');
    L.push('| server | records | prepare s | start → signed answer s | RSS MiB | RSS growth vs previous size | time growth vs previous size | extra |', '|---|---:|---:|---:|---:|---:|---:|---|');
    for (const s of sc.servers) {
      let prev;
      for (const p of s.points) {
        if (p.skipped) { L.push(`| ${s.label} | ${fmtInt(p.records)} | skipped: ${p.skipped} ||||||`); continue; }
        if (p.error) { L.push(`| ${s.label} | ${fmtInt(p.records)} | failed: ${p.error.split('\n')[0].slice(0, 120)} ||||||`); continue; }
        const total = (p.prepareMs ?? 0) + p.readyMs;
        const g = (a, b) => (prev && a && b ? `${(a / b).toFixed(1)}× for ${(p.records / prev.records).toFixed(0)}× records` : '–');
        const extra = [p.dbBytes ? `SQLite file ${fmtMiB(p.dbBytes)} MiB` : '', p.bytesPerRecord ? `${Math.round(p.bytesPerRecord)} B/record marginal` : ''].filter(Boolean).join('; ');
        L.push(`| ${s.label} | ${fmtInt(p.records)} | ${fmtS(p.prepareMs)} | ${fmtS(p.readyMs)} | ${fmtMiB(p.rssBytes)} | ${g(p.rssBytes, prev?.rssBytes)} | ${g(total, prev ? (prev.prepareMs ?? 0) + prev.readyMs : undefined)} | ${extra || '–'} |`);
        prev = p;
      }
    }
    L.push('');
    const ch = sc.servers.find((s) => s.id === 'tandem')?.points.find((p) => p.change);
    if (ch) {
      const c = ch.change;
      L.push(`### One admin change on the ${fmtInt(ch.records)}-record zone (tandem, --workers 1)`, '');
      L.push('On the largest zone above, once tandem answers: one `POST /zones/{id}/dns_records` adding an A record through the admin API. ' +
        '"API answer" is the POST\'s round trip; "signed answer" runs from sending the POST until `dig +dnssec` gets the new name with its RRSIG. ' +
        `RSS of tandem's process tree before the POST, its peak (sampled every 100 ms) and ${fmtS(c.settleMs)} s after the new name answers.`, '');
      L.push('| records | API answer s | signed answer s | RSS before MiB | RSS peak MiB | RSS after MiB | growth MiB |', '|---:|---:|---:|---:|---:|---:|---:|');
      if (c.error) L.push(`| ${fmtInt(ch.records)} | failed: ${c.error.split('\n')[0].slice(0, 160)} ||||||`);
      else L.push(`| ${fmtInt(ch.records)} | ${fmtS(c.postMs)} | ${fmtS(c.visibleMs)} | ${fmtMiB(c.rssBeforeBytes)} | ${fmtMiB(c.rssPeakBytes)} | ${fmtMiB(c.rssAfterBytes)} | ${fmtMiB(c.rssAfterBytes - c.rssBeforeBytes)} |`);
      L.push('');
    }
    L.push('![load time, memory and one admin change per zone size](scale.svg)', '');
  }
  if (res.profile) L.push('## Where the time goes', '', 'CPU profiles of this run (self time by function per scenario): [profile.md](profile.md).', '');
  return L.join('\n');
}

/** tandem's own (b) entry as the compact row, then one row per other denial mode. */
function denialRows(d, tandem) {
  const rows = [];
  if (tandem?.workloads?.['nx-do']) rows.push({ mode: 'compact', label: 'tandem compact', signing: tandem.signing, r: tandem.workloads['nx-do'] });
  for (const e of d.denialModes ?? []) rows.push({ mode: e.mode, label: e.label, signing: e.signing, r: e.workloads?.['nx-do'], error: e.error });
  return rows;
}

/** A peer's column name in the (b) per denial mode table: Knot by its denial (NSEC or NSEC3). */
const denialPeerLabel = (p) => (p.id === 'knot' ? 'Knot NSEC' : p.id === 'knot-nsec3' ? 'Knot NSEC3' : p.label);

/** (b) per denial mode: tandem in each mode beside the peers' (b) of the same run. */
function denialSection(L, d, tandem, peers) {
  L.push('### (b) random non-existent names, DO=1, per tandem denial mode', '');
  L.push('One tandem per denial mode on the same zone (same workers), started after the peers above; compact is the main tandem entry. ' +
    'compact, nsec and nsec3 sign one proof per answer (a fresh name is a fresh signature); nsec3-chain and nsec-chain answer from a chain ' +
    'built and signed at load (no signing per query). With workers, the workers answer fresh names themselves: the primary pushes each ' +
    'small zone\'s whole chain (compact: its gaps and key; the workers sign) to them when the zone is served (docs/workers.md). ' +
    'The ratios divide by the peers\' (b) figures of this run' +
    (peers.some((p) => p.id === 'knot-nsec3') ? '; nsec3-chain ÷ Knot NSEC3 is the like-for-like figure (both answer from an NSEC3 chain signed ' +
      'at load, RFC 9276 parameters), ÷ Knot NSEC compares with Knot\'s default denial, whose answers are smaller' : '') + '.', '');
  const sizes = peers.filter((p) => p.workloads['nx-do'].summary?.responseSize).map((p) => `${denialPeerLabel(p)} ${fmtInt(p.workloads['nx-do'].summary.responseSize)}`);
  if (sizes.length) L.push(`The peers' (b) response sizes (median, octets): ${sizes.join(', ')}.`, '');
  L.push(`| tandem denial | queries/s (median) | runs min–max | avg latency ms | p50 ms | p99 ms | response size | response codes |${peers.map((p) => ` ÷ ${denialPeerLabel(p)} |`).join('')}`);
  L.push(`|---|---:|---:|---:|---:|---:|---:|---|${peers.map(() => '---:|').join('')}`);
  for (const row of denialRows(d, tandem)) {
    const r = row.r;
    if (!r) { L.push(`| ${row.mode} | ${row.error ? `failed: ${row.error.split('\n')[0].slice(0, 120)}` : '–'} |||||||${peers.map(() => '|').join('')}`); continue; }
    L.push(`| ${row.mode} | ${fmtInt(r.summary.qps)} | ${fmtK(r.summary.qpsMin)}–${fmtK(r.summary.qpsMax)} | ${fmtMs(r.summary.latencyAvgMs)} | ${fmtMs(r.latency?.p50Ms)} | ${fmtMs(r.latency?.p99Ms)} | ` +
      `${fmtInt(r.summary.responseSize)} | ${rcodeText(r.runs.at(-1)?.rcodes)} |${peers.map((p) => ` ${fmtRatio(r.summary.qps, p.workloads?.['nx-do']?.summary?.qps)} |`).join('')}`);
  }
  L.push('', '![(b) queries per second per tandem denial mode](denial.svg)', '');
}

/** A bar chart of (b): one bar per tandem denial mode, then the peers. */
export function denialSvg(res) {
  const d = res.dns;
  const tandem = d.servers.find((s) => s.id === 'tandem');
  const bars = [
    ...denialRows(d, tandem).map((row) => ({ label: row.mode, v: row.r?.summary?.qps, color: row.mode.endsWith('-chain') ? '#1d4fa8' : '#2f6fdf' })),
    ...d.servers.filter((s) => s.id !== 'tandem' && s.workloads?.['nx-do']).map((s) => ({ label: denialPeerLabel(s), v: s.workloads['nx-do'].summary?.qps, color: PEER_COLORS[s.id] ?? '#888' })),
  ];
  const W = 760, H = 340, left = 70, right = 20, top = 40, bottom = 60;
  const plotW = W - left - right, plotH = H - top - bottom;
  const maxV = Math.max(1, ...bars.map((b) => b.v ?? 0));
  const step = niceStep(maxV / 5);
  const yMax = Math.ceil(maxV / step) * step;
  const y = (v) => top + plotH - (v / yMax) * plotH;
  const barW = Math.min(80, plotW / Math.max(1, bars.length));
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">(b) random non-existent names, DO=1: queries/s per tandem denial mode and peer</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    o.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    o.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : String(v))}</text>`);
  }
  o.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  bars.forEach((b, i) => {
    const x = left + i * barW + (plotW - barW * bars.length) / 2;
    o.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" font-size="11">${esc(b.label)}</text>`);
    if (b.v === undefined) return;
    o.push(`<rect x="${(x + 4).toFixed(1)}" y="${y(b.v).toFixed(1)}" width="${(barW - 8).toFixed(1)}" height="${(top + plotH - y(b.v)).toFixed(1)}" fill="${b.color}"><title>${esc(`${b.label}: ${fmtInt(b.v)} q/s`)}</title></rect>`);
    o.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y(b.v) - 4).toFixed(1)}" text-anchor="middle" font-size="11">${esc(fmtK(b.v))}</text>`);
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

/** Bar colours per server id (the Knot variants in two shades of orange). */
const PEER_COLORS = { tandem: '#2f6fdf', knot: '#e08a1e', 'knot-nsec3': '#a85c00', pdns: '#3a9a5b', floor: '#9a9a9a' };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A grouped bar chart: one group per workload, one bar per server, bar height = median queries/s. */
export function svg(res) {
  const d = res.dns;
  const servers = d?.servers ?? [];
  const colors = PEER_COLORS;
  const W = 820, H = 400, left = 70, right = 20, top = 40, bottom = 100;
  const plotW = W - left - right, plotH = H - top - bottom;
  const vals = servers.flatMap((s) => WORKLOADS.map((w) => s.workloads?.[w.id]?.summary?.qps ?? 0));
  const maxV = Math.max(1, ...vals);
  const step = niceStep(maxV / 5);
  const yMax = Math.ceil(maxV / step) * step;
  const y = (v) => top + plotH - (v / yMax) * plotH;
  const groupW = plotW / WORKLOADS.length;
  const barW = Math.min(60, (groupW * 0.8) / Math.max(1, servers.length));
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Queries/s (median of ${d?.runs ?? '?'} runs, dnsperf on the same ${res.environment.cores} cores)</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    o.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    o.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : String(v))}</text>`);
  }
  o.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  o.push(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  WORKLOADS.forEach((w, gi) => {
    const gx = left + gi * groupW + (groupW - barW * servers.length) / 2;
    servers.forEach((s, si) => {
      const v = s.workloads?.[w.id]?.summary?.qps;
      const x = gx + si * barW;
      if (v === undefined) {
        o.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${top + plotH - 4}" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      o.push(`<rect x="${(x + 2).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${colors[s.id] ?? '#888'}"><title>${esc(`${s.label}, ${w.short}: ${fmtInt(v)} q/s`)}</title></rect>`);
      o.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="11">${esc(fmtK(v))}</text>`);
    });
    o.push(`<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${esc(w.short)}</text>`);
    // tandem ÷ each other server for this workload, under the group
    const t = servers.find((s) => s.id === 'tandem')?.workloads?.[w.id]?.summary?.qps;
    const ratios = servers.filter((s) => s.id !== 'tandem' && t && s.workloads?.[w.id]?.summary?.qps).map((s) => `÷${s.id} ${(t / s.workloads[w.id].summary.qps).toFixed(2)}`);
    if (ratios.length) o.push(`<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 34}" text-anchor="middle" font-size="10" fill="#444">${esc(`tandem ${ratios.join(', ')}`)}</text>`);
  });
  servers.forEach((s, si) => {
    const lx = left + si * Math.floor((W - left) / Math.max(4, servers.length)), ly = H - 22;
    o.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colors[s.id] ?? '#888'}"/>`);
    o.push(`<text x="${lx + 18}" y="${ly}">${esc(`${s.label} (${s.signing.split(/[,:]/)[0]})`)}</text>`);
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/**
 * One bar panel of a multi-panel SVG: groups of bars (one group per zone size, say), value labels on the bars,
 * a y axis from 0. Pushes its elements to o.
 */
function barPanel(o, { x0, y0, w, h, title, unit, groups }) {
  const vals = groups.flatMap((g) => g.bars.map((b) => b.v ?? 0));
  const maxV = Math.max(1e-9, ...vals);
  const step = niceStep(maxV / 4);
  const yMax = Math.ceil(maxV / step) * step;
  const top = y0 + 26, bottom = y0 + h - 34, left = x0 + 50, right = x0 + w - 8;
  const y = (v) => bottom - (v / yMax) * (bottom - top);
  o.push(`<text x="${x0 + w / 2}" y="${y0 + 14}" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    o.push(`<line x1="${left}" x2="${right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    o.push(`<text x="${left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="10">${esc(`${+v.toFixed(2)}`)}</text>`);
  }
  o.push(`<text x="${x0 + 10}" y="${(top + bottom) / 2}" font-size="10" transform="rotate(-90 ${x0 + 10} ${(top + bottom) / 2})" text-anchor="middle">${esc(unit)}</text>`);
  const gw = (right - left) / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const bw = Math.min(34, (gw * 0.85) / Math.max(1, g.bars.length));
    const gx = left + gi * gw + (gw - bw * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const x = gx + bi * bw;
      if (b.v === undefined || !Number.isFinite(b.v)) { o.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${bottom - 3}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`); return; }
      o.push(`<rect x="${(x + 1).toFixed(1)}" y="${y(b.v).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(bottom - y(b.v)).toFixed(1)}" fill="${b.color}"><title>${esc(`${g.label}, ${b.label}: ${b.text ?? b.v}`)}</title></rect>`);
      o.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(y(b.v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${esc(b.text ?? `${+b.v.toFixed(b.v < 10 ? 1 : 0)}`)}</text>`);
    });
    o.push(`<text x="${(left + gi * gw + gw / 2).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="11">${esc(g.label)}</text>`);
  });
  o.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
}

/** The scale part: start → signed answer and RSS per zone size and server, and tandem's one admin change on the largest zone. */
export function scaleSvg(res) {
  const sc = res.scale;
  const colors = { tandem: '#2f6fdf', knot: '#e08a1e', pdns: '#3a9a5b' };
  const sizes = sc.sizes;
  const label = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
  const point = (s, i) => s.points[i];
  const ok = (p) => p && !p.error && !p.skipped;
  const group = (i, f) => ({ label: `${label(sizes[i])} names`, bars: sc.servers.map((s) => ({ label: s.label, color: colors[s.id] ?? '#888', v: ok(point(s, i)) ? f(s, point(s, i)) : undefined })) });
  const t = sc.servers.find((s) => s.id === 'tandem');
  const ch = t?.points.find((p) => p.change);
  const panelW = 265;
  const W = panelW * (ch ? 4 : 2) + 10, H = 340;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const ph = H - 40;
  barPanel(o, { x0: 0, y0: 8, w: panelW, h: ph, title: 'start → signed answer', unit: 'seconds (incl. prepare)', groups: sizes.map((_, i) => group(i, (s, p) => ((p.prepareMs ?? 0) + p.readyMs) / 1000)) });
  barPanel(o, { x0: panelW, y0: 8, w: panelW, h: ph, title: 'resident memory once answering', unit: 'MiB', groups: sizes.map((_, i) => group(i, (s, p) => (s.id === 'pdns' ? undefined : p.rssBytes / 2 ** 20))) });
  if (ch) {
    const c = ch.change;
    const one = (lbl, v, color) => ({ label: lbl, bars: [{ label: lbl, v, color }] });
    const names = label(ch.records - 6);
    barPanel(o, {
      x0: 2 * panelW, y0: 8, w: panelW, h: ph, title: `tandem: 1 admin change, ${names} names`, unit: 'seconds from the POST',
      groups: c.error ? [{ label: 'failed', bars: [] }] : [one('API answer', c.postMs / 1000, '#2f6fdf'), one('signed answer', c.visibleMs / 1000, '#1d4fa8')],
    });
    barPanel(o, {
      x0: 3 * panelW, y0: 8, w: panelW, h: ph, title: `tandem RSS around that change`, unit: 'MiB',
      groups: c.error ? [{ label: 'failed', bars: [] }] : [one('before', c.rssBeforeBytes / 2 ** 20, '#9ab7ee'), one('peak', c.rssPeakBytes / 2 ** 20, '#2f6fdf'), one('after', c.rssAfterBytes / 2 ** 20, '#1d4fa8')],
    });
  }
  sc.servers.forEach((s, si) => {
    const lx = 60 + si * 160, ly = H - 10;
    o.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colors[s.id] ?? '#888'}"/>`);
    o.push(`<text x="${lx + 18}" y="${ly}">${esc(s.label)}</text>`);
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}
