// Listing: Cloudflare's filters (`name`, `name.contains`, ..., `match=any|all`), ordering and pagination
// (`page`, `per_page` -> result_info). Filters apply to the JSON form, so they see what the client sees.
import { ApiError, Code, type ResultInfo } from './envelope.js';
import type { RecordJson } from './records.js';

type Op = 'exact' | 'contains' | 'startswith' | 'endswith' | 'present' | 'absent';

interface Filter {
  field: 'type' | 'name' | 'content' | 'comment' | 'search' | 'proxied';
  op: Op;
  value: string;
}

const FIELDS = ['type', 'name', 'content', 'comment'] as const;
const OPS: Op[] = ['exact', 'contains', 'startswith', 'endswith', 'present', 'absent'];

/** Comparable form of a name-ish value: lower case, no trailing dot. */
function norm(v: string): string {
  const s = v.trim().toLowerCase();
  return s.length > 1 && s.endsWith('.') ? s.slice(0, -1) : s;
}

function parseFilters(q: URLSearchParams): Filter[] {
  const out: Filter[] = [];
  for (const [key, value] of q) {
    const [field, op = 'exact'] = key.split('.', 2) as [string, string | undefined];
    if (key === 'search') { out.push({ field: 'search', op: 'contains', value }); continue; }
    if (key === 'proxied') { out.push({ field: 'proxied', op: 'exact', value }); continue; }
    if (!(FIELDS as readonly string[]).includes(field)) continue;
    // `tag_match`, `per_page` etc. never reach here; `name.starts_with` spellings are accepted too.
    const o = op.replace(/_/g, '') as Op;
    if (!OPS.includes(o)) throw new ApiError(400, Code.INVALID_FIELD, `${key}: unknown filter operator '${op}' (use exact, contains, startswith, endswith)`);
    out.push({ field: field as Filter['field'], op: o, value });
  }
  return out;
}

function test(rec: RecordJson, f: Filter): boolean {
  if (f.field === 'proxied') return f.value !== 'true';
  if (f.field === 'search') {
    const v = f.value.toLowerCase();
    return [rec.name, rec.content, rec.comment ?? ''].some((s) => s.toLowerCase().includes(v));
  }
  const raw = f.field === 'type' ? rec.type : f.field === 'name' ? rec.name : f.field === 'content' ? rec.content : rec.comment;
  if (f.op === 'present') return raw !== null && raw !== '';
  if (f.op === 'absent') return raw === null || raw === '';
  if (raw === null) return false;
  const have = f.field === 'type' ? raw.toUpperCase() : f.field === 'content' ? raw.toLowerCase() : norm(raw);
  const want = f.field === 'type' ? f.value.trim().toUpperCase() : f.field === 'content' ? f.value.toLowerCase() : norm(f.value);
  switch (f.op) {
    case 'exact': return have === want;
    case 'contains': return have.includes(want);
    case 'startswith': return have.startsWith(want);
    case 'endswith': return have.endsWith(want);
    default: return false;
  }
}

export function filterRecords(records: RecordJson[], q: URLSearchParams): RecordJson[] {
  const filters = parseFilters(q);
  const match = q.get('match') ?? 'all';
  if (match !== 'all' && match !== 'any') throw new ApiError(400, Code.INVALID_FIELD, `match: must be 'any' or 'all'`);
  if (filters.length === 0) return records;
  return records.filter((r) => (match === 'all' ? filters.every((f) => test(r, f)) : filters.some((f) => test(r, f))));
}

/**
 * The name every listed record must have, when the filters say so (`name=` or `name.exact=`, with match=all):
 * the route then reads that owner's records only instead of making every record's JSON.
 */
export function exactNameFilter(q: URLSearchParams): string | undefined {
  if ((q.get('match') ?? 'all') !== 'all') return undefined;
  const v = q.get('name') ?? q.get('name.exact');
  return v === null ? undefined : norm(v);
}

/** Sorts by `order` (a field of the items) and `direction`; `fallback` decides ties and the default order. */
export function orderItems<T>(items: T[], q: URLSearchParams, allowed: Record<string, (a: T, b: T) => number>, fallback: (a: T, b: T) => number): T[] {
  const order = q.get('order');
  const direction = q.get('direction') ?? 'asc';
  if (direction !== 'asc' && direction !== 'desc') throw new ApiError(400, Code.INVALID_FIELD, `direction: must be 'asc' or 'desc'`);
  let cmp = fallback;
  if (order !== null) {
    const by = allowed[order];
    if (!by) throw new ApiError(400, Code.INVALID_FIELD, `order: must be one of ${Object.keys(allowed).join(', ')}`);
    cmp = (a, b) => by(a, b) || fallback(a, b);
  }
  const sign = direction === 'desc' ? -1 : 1;
  return [...items].sort((a, b) => sign * cmp(a, b));
}

function positiveInt(q: URLSearchParams, key: string, dflt: number): number {
  const v = q.get(key);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ApiError(400, Code.INVALID_FIELD, `${key}: must be a positive integer`);
  return n;
}

/** One page of `items`; `per_page` above `max` is clamped to `max`. */
export function paginate<T>(items: T[], q: URLSearchParams, dflt: number, max: number): { page: T[]; info: ResultInfo } {
  const page = positiveInt(q, 'page', 1);
  const perPage = Math.min(positiveInt(q, 'per_page', dflt), max);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return {
    page: slice,
    info: { page, per_page: perPage, count: slice.length, total_count: items.length, total_pages: Math.ceil(items.length / perPage) },
  };
}
