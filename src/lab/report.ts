// The checker's report: findings (error, warning, note) with a stable code each, what every provider serves,
// the names asked and the pinned pairs; `--json` prints it as it is, the human form is made here.

export type Level = 'error' | 'warning' | 'note';

export interface Finding {
  level: Level;
  /** Stable, for scripts and tests: e.g. `zsk-missing`, `ds-stale`, `cds-differs`, `validation`. */
  code: string;
  message: string;
  /** The provider concerned (its label), when one is. */
  provider?: string;
  /** One line per item (failed answers, differing records). */
  details?: string[];
}

export interface KeyReport {
  tag: number;
  flags: number;
  algorithm: number;
  /** From what the provider signs with it: `ksk` (signs its DNSKEY RRset), `zsk` (signs its data), `both`, or `published`. */
  use: 'ksk' | 'zsk' | 'both' | 'published';
  dnskey: string;
}

export interface ProviderReport {
  label: string;
  address: string;
  reachable: boolean;
  /** Answers with AA set (RFC 1035 §4.1.1) to every apex query. */
  authoritative: boolean;
  /** Echoes the CO bit (RFC 9824 §5.1). */
  compactAnswersOk: boolean;
  serial?: number;
  denial?: string;
  axfr: boolean;
  dnskeyTtl?: number;
  keys: KeyReport[];
  /** The DNSKEY RRset validates from the trust anchors (or, without anchors, with its own keys). */
  dnskeyTrusted: boolean;
  ns: string[];
  cds: string[];
  cdnskey: string[];
}

export interface NameReport {
  name: string;
  type: string;
  why: string;
  answers: { provider: string; kind: string; rcode: string; denial?: string; compact: boolean; data: string[]; error?: string }[];
}

export interface PairReport {
  /** Whose answers. */
  data: string;
  /** Whose DNSKEY RRset validated them. */
  keys: string;
  checked: number;
  failed: number;
}

export interface CheckReport {
  zone: string;
  ok: boolean;
  errors: number;
  warnings: number;
  trust?: { source: string; ds: string[]; keys: string[] };
  providers: ProviderReport[];
  names: NameReport[];
  pairs: PairReport[];
  findings: Finding[];
}

/** Collects findings in the order they are found. */
export class Findings {
  readonly list: Finding[] = [];
  private add(level: Level, code: string, message: string, extra: { provider?: string; details?: string[] } = {}): void {
    this.list.push({ level, code, message, ...(extra.provider !== undefined ? { provider: extra.provider } : {}), ...(extra.details?.length ? { details: extra.details } : {}) });
  }
  error(code: string, message: string, extra?: { provider?: string; details?: string[] }): void { this.add('error', code, message, extra); }
  warning(code: string, message: string, extra?: { provider?: string; details?: string[] }): void { this.add('warning', code, message, extra); }
  note(code: string, message: string, extra?: { provider?: string; details?: string[] }): void { this.add('note', code, message, extra); }
}

const MAX_DETAILS = 12;

/** The report for a terminal: providers, trust, names, pairs, then every finding; a summary line last. */
export function formatReport(r: CheckReport): string {
  const lines: string[] = [];
  lines.push(`zone ${r.zone}: ${r.providers.length} provider${r.providers.length === 1 ? '' : 's'}`);
  for (const p of r.providers) {
    if (!p.reachable) { lines.push(`  ${p.label}: unreachable`); continue; }
    const keys = p.keys.map((k) => `${k.tag}${k.use === 'published' ? '' : `/${k.use}`}`).join(' ');
    const flags = [p.authoritative ? 'AA' : 'no AA', p.compactAnswersOk ? 'CO' : '', p.axfr ? 'AXFR' : '', p.denial ?? ''].filter(Boolean).join(', ');
    lines.push(`  ${p.label}: serial ${p.serial ?? '?'}, DNSKEY ${keys || 'none'}${p.dnskeyTrusted ? '' : ' (untrusted)'}, CDS ${p.cds.length}, CDNSKEY ${p.cdnskey.length}, NS ${p.ns.length} (${flags})`);
  }
  if (r.trust) lines.push(`trust: ${r.trust.source}: ${[...r.trust.ds.map((d) => `DS ${d.split(' ').slice(0, 3).join(' ')}`), ...r.trust.keys.map((k) => `key ${k}`)].join(', ')}`);
  else lines.push('trust: none given (--ds, --parent or --anchor)');
  if (r.names.length) {
    lines.push(`names (${r.names.length}):`);
    for (const n of r.names) {
      const kinds = [...new Set(n.answers.map((a) => (a.error ? 'no answer' : `${a.kind}${a.denial ? ` ${a.denial}` : ''}`)))].join(' | ');
      lines.push(`  ${n.name} ${n.type}: ${kinds}  [${n.why}]`);
    }
  }
  if (r.pairs.length) {
    lines.push('pinned pairs (answers of X validated with the DNSKEY RRset of Y):');
    for (const p of r.pairs) lines.push(`  ${p.data} with ${p.keys}: ${p.checked - p.failed}/${p.checked} valid`);
  }
  const order: Level[] = ['error', 'warning', 'note'];
  const sorted = [...r.findings].sort((a, b) => order.indexOf(a.level) - order.indexOf(b.level));
  if (sorted.length) lines.push('');
  for (const f of sorted) {
    lines.push(`${f.level}: ${f.message} [${f.code}]`);
    for (const d of (f.details ?? []).slice(0, MAX_DETAILS)) lines.push(`    ${d}`);
    if ((f.details?.length ?? 0) > MAX_DETAILS) lines.push(`    ... ${f.details!.length - MAX_DETAILS} more (--json lists all)`);
  }
  lines.push('');
  lines.push(`${r.ok ? 'OK' : 'FAILED'}: ${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}
