// RFC 2136 §3.3: is the sender allowed to make each update? The zone's `update:` grants (config/update-settings.ts)
// name a TSIG key and the names and types it may change; an RR no rule of the signing key covers makes the whole
// message REFUSED. A delete of every RRset at a name (type ANY) needs a rule allowing ANY.
import { Name } from '../dns/name.js';
import { RRType, typeName } from '../dns/types.js';
import { ruleAllows, type UpdateGrant } from '../config/update-settings.js';
import type { UpdateOp } from '../state/update-apply.js';

/** The (name, type) each update changes; type ANY for a delete of a whole name. */
export function opTarget(op: UpdateOp): { name: Name; type: number } {
  switch (op.op) {
    case 'add': return { name: op.rr.name, type: op.rr.type };
    case 'delete-name': return { name: op.name, type: RRType.ANY };
    default: return { name: op.name, type: op.type };
  }
}

/** The grants of `key` (names compared as DNS names, RFC 8945 §4.2 key names are domain names). */
export function grantsFor(grants: readonly UpdateGrant[], key: Name): UpdateGrant[] {
  return grants.filter((g) => {
    try {
      return key.equals(nameOf(g.key));
    } catch {
      return false;
    }
  });
}

/** Why `ops` are not allowed for `key`, or undefined when every one is. */
export function denied(grants: readonly UpdateGrant[], key: Name, ops: readonly UpdateOp[]): string | undefined {
  const mine = grantsFor(grants, key);
  if (mine.length === 0) return `key ${key} has no zone.update grant for this zone`;
  for (const op of ops) {
    const { name, type } = opTarget(op);
    if (!mine.some((g) => g.allow.some((r) => ruleAllows(r, name, type)))) {
      return `key ${key} may not change ${name} ${type === RRType.ANY ? 'ANY (a delete of every RRset at the name needs types: [ANY])' : typeName(type)}`;
    }
  }
  return undefined;
}

const nameOf = (text: string): Name => Name.fromText(text.endsWith('.') ? text : `${text}.`);
