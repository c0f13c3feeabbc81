// Admin changes of a master-file zone written and read back range by range (issue 16: a change costs the
// change, not the zone). masteredit.ts walks the whole file to find a changed RRset's lines; here only the
// ranges that can hold them are read: the lines that start with a changed owner's first label (one regex
// search of the text), each read from there with the $ORIGIN and $TTL in effect (the `$` lines of the file,
// found by a second search), to the end of the owner's lines and one record beyond; and the lines up to the
// SOA, whose serial is bumped. The same editor (MasterEditor) makes the same splices there, and the edited
// ranges are read again: that is the read-back.
//
// Fail closed: whatever this reading cannot vouch for throws MasterRangeUnfit (or the reader's
// ZoneFileError) and the caller takes the whole way (masteredit.ts over the whole file, then a whole parse).
// It is refused here: $INCLUDE (the whole way edits the included file), a byte-order mark, an owner whose
// name needs escapes, an SOA whose MINIMUM is the default TTL (no TTL before it), and any range that does not read as the zone served from this file does: the records
// found at each changed owner must be exactly those served (so an owner written as `@` under its own $ORIGIN,
// or with escapes, which the search does not find, is never missed), and every other record of the ranges
// must read the same before and after the edit.
import { masterLineAt, parseMasterTtl, walkMasterRange, type MasterPlace } from '../config/masterfile.js';
import { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRClass, RRType } from '../dns/types.js';
import { MasterEditor, splicePieces, withTail, type Splice } from './masteredit.js';
import { joinPieces, type Piece } from './yamledit.js';
import { soaSerial, withSerial } from './version.js';
import type { ZoneEdit } from './yamledit.js';

/** The change cannot be made range by range; the caller edits and reads the whole file. */
export class MasterRangeUnfit extends Error {}

/** An owner's records as the served zone has them (names absolute text), before the change. */
export interface OwnerRecords {
  owner: string;
  records: { type: number; ttl: number; rdata: Uint8Array }[];
}

export interface MasterRangeEdited {
  /** The main file's new text. */
  text: string;
  /** The same as pieces of the old text (masteredit.ts splicePieces): what a writer of the file needs. */
  pieces: Piece[];
  /** The file's SOA after the change, then every other record of the ranges read back (of the new text). */
  records: Rr[];
  /** Records read (before and after the edit, the SOA's range included): the work done, for tests. */
  parsed: number;
}

/** A record read back, its owner as absolute text (to pass between threads). */
export interface RangedRecord {
  owner: string;
  type: number;
  ttl: number;
  rdata: Uint8Array;
}

export const rangedRecords = (records: readonly Rr[]): RangedRecord[] => records.map((x) => ({ owner: x.name.toString(), type: x.type, ttl: x.ttl, rdata: x.rdata }));

interface Range {
  start: number;
  end: number;
}

/** Line numbers of positions asked for in increasing order (one pass over the text at most). */
class Lines {
  private pos = 0;
  private line = 1;
  constructor(private readonly text: string) {}
  at(p: number): number {
    if (p < this.pos) {
      this.pos = 0;
      this.line = 1;
    }
    for (let i = this.text.indexOf('\n', this.pos); i >= 0 && i < p; i = this.text.indexOf('\n', i + 1)) this.line++;
    this.pos = p;
    return this.line;
  }
}

/** The `$` lines of a file and what is in effect after each: placeAt(p) says what holds at p. */
class Places {
  private readonly at: number[] = [];
  private readonly after: MasterPlace[] = [];
  readonly end: MasterPlace;

  constructor(file: string, text: string, origin: Name) {
    let place: MasterPlace = { origin };
    const lines = new Lines(text);
    const next = (from: number) => {
      const i = text.indexOf('\n$', from);
      return i < 0 ? -1 : i + 1;
    };
    for (let p = text.charCodeAt(0) === 0x24 ? 0 : next(0); p >= 0; p = next(p)) {
      const ll = masterLineAt(file, text, p, lines.at(p));
      const [d, arg, ...more] = ll?.tokens ?? [];
      if (!d || !arg || more.length > 0 || arg.quoted) throw new MasterRangeUnfit(`a $ line (${d?.text}) this reader does not take`);
      switch (d.text.toUpperCase()) {
        case '$ORIGIN':
          place = { ...place, origin: arg.text === '@' ? place.origin : Name.fromText(arg.text, place.origin) };
          break;
        case '$TTL':
          place = { ...place, defaultTtl: parseMasterTtl(arg.text) };
          break;
        default:
          throw new MasterRangeUnfit(`${d.text}: the file is edited whole`);
      }
      this.at.push(p);
      this.after.push(place);
    }
    this.end = place;
    this.start = { origin };
  }

  private readonly start: MasterPlace;

  /** What is in effect at `p` (a line start): the last `$` line before it decides. */
  placeAt(p: number): MasterPlace {
    let lo = 0;
    let hi = this.at.length; // the first directive at or after p
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid] < p) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? this.start : this.after[lo - 1];
  }
}

const recordKey = (r: { type: number; ttl: number; rdata: Uint8Array }) => `${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`;

function sameMultiset(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  a.sort();
  b.sort();
  return a.every((x, i) => x === b[i]);
}

/** The regex that finds the lines written with one of `owners`' first labels as the start of their owner. */
function ownerLines(owners: Iterable<Name>): RegExp {
  const firsts = new Set<string>();
  for (const owner of owners) {
    const text = owner.toString();
    const first = text.slice(0, text.indexOf('.'));
    if (text.includes('\\') || !/^[A-Za-z0-9_*-]+$/.test(first)) throw new MasterRangeUnfit(`${text}: an owner written with escapes is searched for in the whole file`);
    firsts.add(first.toLowerCase().replace(/\*/g, '\\*'));
  }
  return new RegExp(`^(?:${[...firsts].join('|')})(?=[.\\s;(]|$)`, 'gim');
}

/**
 * Applies RRset edits (and the serial bump) to the master file `file` (text `text`) of the zone `originText`,
 * reading only the ranges that hold the changed owners and the SOA, and reads the edited ranges back.
 * `before`: every changed owner's records as served now (the file is as they were read from: the caller
 * checks that it is unchanged on disk). Throws MasterRangeUnfit or ZoneFileError: then edit the whole file.
 */
export function editMasterRanges(file: string, text: string, originText: string, edits: ZoneEdit[], before: OwnerRecords[]): MasterRangeEdited {
  if (edits.some((e) => e.op === 'setting')) throw new MasterRangeUnfit('settings go to the settings file');
  if (text.charCodeAt(0) === 0xfeff) throw new MasterRangeUnfit('a byte-order mark');
  const origin = Name.fromText(originText);
  const opts = { origin };
  const places = new Places(file, text, origin);
  const lines = new Lines(text);
  const owners = new Map<string, Name>();
  for (const e of edits) if (e.op === 'rrset') owners.set(Name.fromText(e.owner).key, Name.fromText(e.owner));
  for (const b of before) owners.set(Name.fromText(b.owner).key, Name.fromText(b.owner));
  if (owners.size !== before.length) throw new MasterRangeUnfit('a changed owner without its records as served');

  // The ranges: up to the record after the SOA; each changed owner's lines and the record after them.
  const ranges: Range[] = [];
  let soaSeen = false;
  const soaEnd = walkMasterRange(file, text, 0, 1, places.placeAt(0), opts, (r) => {
    if (soaSeen) return true;
    soaSeen = r.type === RRType.SOA;
    // No TTL anywhere before it: its MINIMUM becomes the default TTL from here on (as BIND does), which the
    // `$` lines do not say.
    if (soaSeen && r.ttlFrom === 'soa') throw new MasterRangeUnfit('the SOA MINIMUM is the default TTL');
    return false;
  });
  if (!soaSeen) throw new MasterRangeUnfit('no SOA');
  ranges.push({ start: 0, end: soaEnd });
  // One search for every changed owner's first label; each line found that names one of them starts a range.
  const re = owners.size > 0 ? ownerLines(owners.values()) : undefined;
  // The last range's owner and end: a line of that owner inside it was read with it (the owner's lines up to
  // another name's). A line of another changed owner inside it starts its own range (its lines and the record
  // after them must be read too); overlapping ranges are merged below.
  let reached = 0;
  let last: Name | undefined;
  for (let m = re?.exec(text); m; m = re!.exec(text)) {
    const start = m.index;
    let first = true;
    let owner: Name | undefined;
    let other = false;
    const end = walkMasterRange(file, text, start, lines.at(start), places.placeAt(start), opts, (r) => {
      if (first) {
        first = false;
        owner = owners.get(r.name.key);
        if (owner && start < reached && owner.equals(last!)) owner = undefined; // read with the last range
        return owner === undefined; // (or another name with the same first label)
      }
      if (other) return true; // one record past the owner's lines: the one whose owner or TTL may need writing out
      other = !r.name.equals(owner!);
      return false;
    });
    if (owner) {
      ranges.push({ start, end });
      reached = Math.max(reached, end);
      last = owner;
    }
  }
  ranges.sort((a, b) => a.start - b.start);
  const merged: Range[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }

  // The edit, range by range, and the records the ranges held.
  const editor = new MasterEditor(edits);
  const old: Rr[] = [];
  const shifts: number[] = [];
  const lineNo = new Lines(text);
  for (const r of merged) {
    editor.restart();
    const had = editor.splices.get(file)?.length ?? 0;
    walkMasterRange(file, text, r.start, lineNo.at(r.start), places.placeAt(r.start), opts, (rec, rdata) => {
      if (rec.start >= r.end) return true;
      editor.visit(rec);
      old.push({ name: rec.name, type: rec.type, class: RRClass.IN, ttl: rec.ttl, rdata: rdata() });
      return false;
    });
    const mine = (editor.splices.get(file) ?? []).slice(had);
    shifts.push(mine.reduce((n, s) => n + s.text.length - (s.end - s.start), 0));
  }
  const tail = editor.unplaced(places.end.origin);
  const splices: Splice[] = editor.splices.get(file) ?? [];
  if (tail) splices.push(withTail(text, tail));
  const pieces = splicePieces(text, splices);
  const next = joinPieces(text, pieces);

  // The read-back: the edited ranges and the new lines at the end, read again from the same places.
  const fresh: Rr[] = [];
  const newLines = new Lines(next);
  let shift = 0;
  merged.forEach((r, i) => {
    const start = r.start + shift;
    const end = r.end + shift + shifts[i];
    shift += shifts[i];
    walkMasterRange(file, next, start, newLines.at(start), places.placeAt(r.start), opts, (rec, rdata) => {
      if (rec.start >= end) return true;
      fresh.push({ name: rec.name, type: rec.type, class: RRClass.IN, ttl: rec.ttl, rdata: rdata() });
      return false;
    });
  });
  if (tail) {
    const start = next.length - tail.length;
    walkMasterRange(file, next, start, newLines.at(start), places.end, opts, (rec, rdata) => {
      fresh.push({ name: rec.name, type: rec.type, class: RRClass.IN, ttl: rec.ttl, rdata: rdata() });
    });
  }

  // What was read must be the zone as served: each changed owner's records exactly, nothing else changed.
  for (const b of before) {
    const key = Name.fromText(b.owner).key;
    if (!sameMultiset(old.filter((r) => r.name.key === key && r.type !== RRType.SOA).map(recordKey), b.records.map(recordKey))) {
      throw new MasterRangeUnfit(`${b.owner}: the lines found do not hold the records served`);
    }
  }
  const untouched = (list: Rr[]) => list.filter((r) => r.type !== RRType.SOA && !editor.changes(r)).map((r) => `${r.name.key} ${recordKey(r)}`);
  if (!sameMultiset(untouched(old), untouched(fresh))) throw new MasterRangeUnfit('a record beside the change reads otherwise after the edit');
  const oldSoa = old.filter((r) => r.type === RRType.SOA);
  const soa = fresh.filter((r) => r.type === RRType.SOA);
  if (oldSoa.length !== 1 || soa.length !== 1 || !soa[0].name.equals(origin)) throw new MasterRangeUnfit('the SOA is not read once');
  const bump = edits.some((e) => e.op === 'serial');
  const serial = bump ? (soaSerial(oldSoa[0].rdata) + 1) >>> 0 : soaSerial(oldSoa[0].rdata);
  if (soa[0].ttl !== oldSoa[0].ttl || Buffer.compare(withSerial(oldSoa[0].rdata, serial), soa[0].rdata) !== 0) throw new MasterRangeUnfit('the SOA reads otherwise after the edit');
  return { text: next, pieces, records: [soa[0], ...fresh.filter((r) => r.type !== RRType.SOA)], parsed: old.length + fresh.length };
}
