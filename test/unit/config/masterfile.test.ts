// RFC 1035 §5 master files: directives ($ORIGIN, $INCLUDE, RFC 2308 $TTL), parentheses, comments, quoting and
// escapes, owner inheritance, TTL and class in either order, RFC 3597 unknown types, and errors with location.
import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMasterFile, walkMasterFile, type MasterRecord } from '../../../src/config/masterfile.js';
import { ZoneFileError } from '../../../src/config/errors.js';
import { Name } from '../../../src/dns/name.js';
import { formatRdata, parseRdata } from '../../../src/dns/rdata.js';
import { RRType, typeName } from '../../../src/dns/types.js';

const origin = Name.fromText('example.com.');
const SOA = '@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n';

/** The records as `owner ttl TYPE rdata` lines (absolute owners, formatRdata's RDATA). */
function parse(text: string, files: Record<string, string> = {}, file = '/z/example.com.zone'): string[] {
  const r = parseMasterFile(file, text, { origin, readText: (p) => { if (p in files) return files[p]; throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' }); } });
  return r.records.map((x) => `${x.name} ${x.ttl} ${typeName(x.type)} ${formatRdata(x.type, x.rdata)}`);
}

function error(text: string, files: Record<string, string> = {}): ZoneFileError {
  try {
    parse(text, files);
  } catch (err) {
    if (err instanceof ZoneFileError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('RFC 1035 §5.1 names and $ORIGIN', () => {
  it('relative owners and RDATA names get the origin; absolute ones stay; @ is the origin', () => {
    expect(parse(`${SOA}www 60 A 192.0.2.1\nmail.other.net. 60 CNAME www\n@ 60 MX 10 mail\n`)).toEqual([
      'example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300',
      'www.example.com. 60 A 192.0.2.1',
      'mail.other.net. 60 CNAME www.example.com.',
      'example.com. 60 MX 10 mail.example.com.',
    ]);
  });

  it('$ORIGIN changes the origin for later lines; a relative $ORIGIN is relative to the current one', () => {
    const out = parse(`${SOA}$ORIGIN sub.example.com.\nhost 60 A 192.0.2.1\n$ORIGIN deeper\nx 60 CNAME host\n@ 60 TXT "at"\n`);
    expect(out.slice(1)).toEqual([
      'host.sub.example.com. 60 A 192.0.2.1',
      'x.deeper.sub.example.com. 60 CNAME host.deeper.sub.example.com.',
      'deeper.sub.example.com. 60 TXT "at"',
    ]);
  });

  it('escapes in owner names: \\. is a dot inside a label, \\DDD an octet (RFC 1035 §5.1)', () => {
    const out = parse(`${SOA}a\\.b 60 A 192.0.2.1\n\\065\\@c 60 A 192.0.2.2\n`);
    expect(out.slice(1)).toEqual(['a\\.b.example.com. 60 A 192.0.2.1', 'A\\@c.example.com. 60 A 192.0.2.2']);
  });

  it('a blank owner repeats the previous owner (RFC 1035 §5.1)', () => {
    const out = parse(`${SOA}www 60 A 192.0.2.1\n\t60 AAAA 2001:db8::1\n   60 TXT "x"\n`);
    expect(out.slice(1).map((l) => l.split(' ')[0])).toEqual(['www.example.com.', 'www.example.com.', 'www.example.com.']);
  });

  it('a blank owner with no record before it in the file is an error at its line', () => {
    const e = error(`   60 A 192.0.2.1\n`);
    expect(e.line).toBe(1);
    expect(e.reason).toMatch(/blank owner/);
  });
});

describe('TTLs: $TTL (RFC 2308 §4), the previous TTL (RFC 1035 §5.1), units', () => {
  it('$TTL is the default for records without a TTL; a written TTL is for its record only', () => {
    const out = parse(`$TTL 1h\n${SOA}a A 192.0.2.1\nb 60 A 192.0.2.2\nc A 192.0.2.3\n`);
    expect(out.slice(1).map((l) => l.split(' ')[1])).toEqual(['3600', '60', '3600']);
  });

  it('without $TTL a record without a TTL takes the last TTL written before it', () => {
    const out = parse(`${SOA}a A 192.0.2.1\nb 60 A 192.0.2.2\nc A 192.0.2.3\n`);
    expect(out.slice(1).map((l) => l.split(' ')[1])).toEqual(['3600', '60', '60']);
  });

  it('an SOA with no TTL anywhere before it takes its MINIMUM, which then is the default (as BIND does)', () => {
    const r = parseMasterFile('z', '@ SOA ns1 h 1 2 3 4 300\nwww A 192.0.2.1\n', { origin });
    expect(r.records.map((x) => x.ttl)).toEqual([300, 300]);
    expect(r.warnings[0]).toMatch(/SOA MINIMUM 300/);
  });

  it('a record with no TTL and nothing to take one from is an error', () => {
    const e = error('www A 192.0.2.1\n');
    expect(e).toMatchObject({ line: 1, owner: 'www', type: 'A' });
    expect(e.reason).toMatch(/no TTL.*\$TTL.*RFC 2308 §4/);
  });

  it('BIND units: 1h30m, 1w2d, and upper case', () => {
    const out = parse(`$TTL 1H30M\n${SOA}a A 192.0.2.1\nb 1w2d A 192.0.2.2\n`);
    expect(out.slice(1).map((l) => l.split(' ')[1])).toEqual(['5400', String(9 * 86400)]);
  });

  it('RFC 2181 §8: a TTL above 2^31-1 is refused', () => {
    expect(error(`${SOA}a 2147483648 A 192.0.2.1\n`).reason).toMatch(/RFC 2181 §8/);
    expect(error(`$TTL 3000000000\n`).reason).toMatch(/RFC 2181 §8/);
  });
});

describe('class and TTL in either order (RFC 1035 §5.1)', () => {
  it.each([
    ['www 60 IN A 192.0.2.1'], ['www IN 60 A 192.0.2.1'], ['www in 60 A 192.0.2.1'], ['www CLASS1 60 A 192.0.2.1'], ['www 60 A 192.0.2.1'],
  ])('%s', (line) => {
    expect(parse(`${SOA}${line}\n`)[1]).toBe('www.example.com. 60 A 192.0.2.1');
  });

  it('a class other than IN is refused with the rule (CH, HS, CLASS3)', () => {
    for (const c of ['CH', 'HS', 'CLASS3', 'CLASS255']) {
      const e = error(`${SOA}www 60 ${c} TXT "x"\n`);
      expect(e).toMatchObject({ line: 2, owner: 'www', type: 'TXT' });
      expect(e.reason).toMatch(/Internet class only.*RFC 1035 §3.2.4/);
    }
  });

  it('two TTLs or two classes on one line are errors', () => {
    expect(error(`${SOA}www 60 IN 70 A 192.0.2.1\n`).reason).toMatch(/second TTL/);
    expect(error(`${SOA}www IN 60 IN A 192.0.2.1\n`).reason).toMatch(/second class/);
  });
});

describe('parentheses, comments, quoting', () => {
  it('parentheses join lines and comments inside them are dropped (RFC 1035 §5.1)', () => {
    const out = parse(`@ IN SOA ns1 hostmaster ( ; primary and mailbox\n  2024010101 ; serial\n  1h 15m ; refresh retry\n  2w 300 )\n`);
    expect(out[0]).toBe('example.com. 300 SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 900 1209600 300');
  });

  it('a ; inside quotes is text, outside it starts a comment; \\; outside quotes is a literal', () => {
    expect(parse(`${SOA}t 60 TXT "a;b" c\\;d ; comment\n`)[1]).toBe('t.example.com. 60 TXT "a;b" "c;d"');
  });

  it('quoted strings keep spaces and escapes: \\" \\\\ and \\DDD', () => {
    expect(parse(`${SOA}t 60 TXT "a \\"q\\" \\\\ \\065\\255"\n`)[1]).toBe('t.example.com. 60 TXT "a \\"q\\" \\\\ A\\255"');
  });

  it('CRLF line endings and a byte-order mark are read', () => {
    expect(parse(`\ufeff${SOA.replace('\n', '\r\n')}www 60 A 192.0.2.1\r\n`)[1]).toBe('www.example.com. 60 A 192.0.2.1');
  });

  it("an unclosed '(' is reported at the line it opened; a stray ')' at its own line", () => {
    expect(error(`${SOA}\n\nt 60 TXT ( "a"\n "b"\n`)).toMatchObject({ line: 4 });
    expect(error(`${SOA}t 60 TXT "a" )\n`)).toMatchObject({ line: 2 });
  });

  it('a quoted string does not run past its line', () => {
    expect(error(`${SOA}t 60 TXT "abc\nd" \n`).reason).toMatch(/unterminated quoted string/);
  });
});

describe('types: every type tandem knows, RFC 3597 for the rest', () => {
  it('DNSSEC types are read (which types a zone may hold is the loader\'s policy)', () => {
    const key = 'GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==';
    const out = parse(`${SOA}@ 60 DNSKEY 257 3 13 (\n  ${key.slice(0, 40)}\n  ${key.slice(40)} )\n` +
      `@ 60 RRSIG DNSKEY 13 2 60 20300101000000 20200101000000 55648 example.com. ${key}\n` +
      '@ 60 NSEC a.example.com. SOA RRSIG NSEC DNSKEY\n@ 60 NSEC3PARAM 1 0 0 -\n' +
      'x 60 NSEC3 1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A\n@ 60 CDS 0 0 0 00\n@ 60 CDNSKEY 0 3 0 AA==\n');
    expect(out.slice(1).map((l) => l.split(' ')[2])).toEqual(['DNSKEY', 'RRSIG', 'NSEC', 'NSEC3PARAM', 'NSEC3', 'CDS', 'CDNSKEY']);
    expect(out[1]).toContain(key);
  });

  it('RFC 3597 §5: TYPEnnn with \\# for an unknown type, and \\# for a known one', () => {
    const out = parse(`${SOA}u 60 TYPE65400 \\# 3 ab cd EF\nk 60 A \\# 4 C0000201\ne 60 TYPE65401 \\# 0\n`);
    expect(out.slice(1)).toEqual(['u.example.com. 60 TYPE65400 \\# 3 ABCDEF', 'k.example.com. 60 A 192.0.2.1', 'e.example.com. 60 TYPE65401 \\# 0']);
  });

  it('an unknown mnemonic is an error naming it and RFC 3597', () => {
    const e = error(`${SOA}x 60 BOGUS 1\n`);
    expect(e).toMatchObject({ line: 2, owner: 'x' });
    expect(e.reason).toMatch(/unknown record type "BOGUS".*RFC 3597 §5/);
  });

  it('bad RDATA is an error with file, line, owner and type', () => {
    const e = error(`${SOA}\nwww 60 A 192.0.2.300\n`);
    expect(e).toMatchObject({ file: '/z/example.com.zone', line: 3, owner: 'www', type: 'A' });
    expect(e.message).toMatch(/^\/z\/example\.com\.zone:3: www A: /);
  });

  it('RDATA with a relative name under $ORIGIN is relative to that $ORIGIN', () => {
    const rr = parseMasterFile('z', `${SOA}$ORIGIN b.example.com.\nx 60 MX 5 mx\n`, { origin }).records[1];
    expect(rr.rdata).toEqual(parseRdata(RRType.MX, '5 mx.b.example.com.', origin));
  });
});

describe('directives', () => {
  it('$INCLUDE reads a file relative to the including file\'s folder, with an origin for that file only (RFC 1035 §5.1)', () => {
    const out = parse(`${SOA}$INCLUDE inc/hosts.zone hosts\nafter 60 A 192.0.2.9\n`, {
      '/z/inc/hosts.zone': 'h1 60 A 192.0.2.1\n$ORIGIN other.example.com.\nh2 60 A 192.0.2.2\n$INCLUDE more.zone\n',
      '/z/inc/more.zone': 'm 60 A 192.0.2.3\n',
    });
    expect(out.slice(1)).toEqual([
      'h1.hosts.example.com. 60 A 192.0.2.1',
      'h2.other.example.com. 60 A 192.0.2.2',
      'm.other.example.com. 60 A 192.0.2.3',
      'after.example.com. 60 A 192.0.2.9',
    ]);
  });

  it('an error in an included file names that file and its line', () => {
    const e = error(`${SOA}$INCLUDE bad.zone\n`, { '/z/bad.zone': '\n\nx 60 A nope\n' });
    expect(e).toMatchObject({ file: '/z/bad.zone', line: 3, owner: 'x', type: 'A' });
  });

  it('an include loop is refused at the $INCLUDE that closes it', () => {
    const e = error(`${SOA}$INCLUDE a.zone\n`, { '/z/a.zone': '$INCLUDE b.zone\n', '/z/b.zone': '\n$INCLUDE a.zone\n' });
    expect(e).toMatchObject({ file: '/z/b.zone', line: 2 });
    expect(e.reason).toMatch(/include loop/);
    expect(error(`${SOA}$INCLUDE example.com.zone\n`).reason).toMatch(/include loop/);
  });

  it('includes nest at most 8 deep', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`/z/f${i}.zone`] = `$INCLUDE f${i + 1}.zone\n`;
    files['/z/f10.zone'] = '';
    expect(error(`${SOA}$INCLUDE f0.zone\n`, files).reason).toMatch(/nested deeper than 8/);
  });

  it('a missing include file is reported at the $INCLUDE line', () => {
    const e = error(`${SOA}\n$INCLUDE nothere.zone\n`);
    expect(e).toMatchObject({ file: '/z/example.com.zone', line: 3 });
    expect(e.reason).toMatch(/cannot read \/z\/nothere\.zone/);
  });

  it('$GENERATE is refused with a way out; an unknown directive is an error', () => {
    expect(error(`${SOA}$GENERATE 1-10 h$ A 192.0.2.$\n`).reason).toMatch(/BIND extension.*named-compilezone -s full/);
    expect(error(`${SOA}$DATE 2024\n`).reason).toMatch(/unknown directive \$DATE/);
  });

  it('a $INCLUDE file on disk is read (the default reader)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-mf-'));
    try {
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'sub', 'a.zone'), 'x 60 A 192.0.2.1\n');
      const r = parseMasterFile(join(dir, 'z.zone'), `${SOA}$INCLUDE "sub/a.zone"\n`, { origin });
      expect(r.records[1].name.toString()).toBe('x.example.com.');
      expect([...r.files.keys()]).toEqual([join(dir, 'z.zone'), join(dir, 'sub', 'a.zone')]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('walkMasterFile: the layout the editor needs', () => {
  it('reports each record\'s span, what it inherited, and where a TTL would go', () => {
    const text = `$TTL 60\n${SOA}www A 192.0.2.1 ; web\n  AAAA ( 2001:db8::1\n )\n`;
    const seen: MasterRecord[] = [];
    walkMasterFile('z', text, { origin }, (r) => seen.push(r));
    const [, a, aaaa] = seen;
    expect(text.slice(a.start, a.end)).toBe('www A 192.0.2.1 ; web\n');
    expect(a).toMatchObject({ ownerWritten: true, ttlFrom: 'default', line: 3 });
    expect(text.slice(aaaa.start, aaaa.end)).toBe('  AAAA ( 2001:db8::1\n )\n');
    expect(aaaa).toMatchObject({ ownerWritten: false, line: 4 });
    expect(text.slice(aaaa.restAt, aaaa.restAt + 4)).toBe('AAAA');
    expect(seen[0].ttlFrom).toBe('written');
  });
});
