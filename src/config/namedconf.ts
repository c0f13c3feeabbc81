// The token level of BIND's named.conf syntax, shared by the TSIG `key` statements (tsig.ts) and delv's
// trust-anchors files (lab/anchors.ts): words, quoted strings (backslash escapes the next character), braces and
// semicolons; `#`, `//` and C comments skipped. Each token keeps its line for error messages.

export interface ConfToken {
  text: string;
  quoted: boolean;
  line: number;
}

export class NamedConfSyntaxError extends Error {
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

/** Splits named.conf text into tokens; throws NamedConfSyntaxError on an unterminated comment or string. */
export function namedConfTokens(text: string): ConfToken[] {
  const out: ConfToken[] = [];
  let line = 1;
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (c === '\n') { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new NamedConfSyntaxError(line, 'unterminated /* comment');
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end + 2;
      continue;
    }
    if (c === '{' || c === '}' || c === ';') { out.push({ text: c, quoted: false, line }); i++; continue; }
    if (c === '"') {
      const start = line;
      let j = i + 1, s = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        if (text[j] === '\n') line++;
        s += text[j++];
      }
      if (j >= text.length) throw new NamedConfSyntaxError(line, 'unterminated quoted string');
      out.push({ text: s, quoted: true, line: start });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s{};"]/.test(text[j])) j++;
    out.push({ text: text.slice(i, j), quoted: false, line });
    i = j;
  }
  return out;
}
