// The one error type of zone file loading: says where (file:line), what (owner, type) and why (reason,
// ending with the rule it breaks), so an operator can fix the file without reading tandem's code (STYLE habit 6).

export interface ZoneFileErrorInit {
  file: string;
  line?: number;
  /** Owner name relative to the origin (`@` for the apex), as written in the file. */
  owner?: string;
  /** Record type mnemonic (`CNAME`, `TYPE65400`). */
  type?: string;
  reason: string;
}

export class ZoneFileError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly owner?: string;
  readonly type?: string;
  readonly reason: string;

  constructor(init: ZoneFileErrorInit) {
    super(formatLocation(init) + init.reason);
    this.name = 'ZoneFileError';
    this.file = init.file;
    this.line = init.line;
    this.owner = init.owner;
    this.type = init.type;
    this.reason = init.reason;
  }
}

/** `zones/example.com.yaml:12: www CNAME: ` with the unknown parts left out. */
function formatLocation(e: ZoneFileErrorInit): string {
  let s = e.line !== undefined ? `${e.file}:${e.line}: ` : `${e.file}: `;
  const what = [e.owner, e.type].filter((p) => p !== undefined && p !== '').join(' ');
  if (what) s += `${what}: `;
  return s;
}
