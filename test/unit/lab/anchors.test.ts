// What `tandem check` trusts: --ds files (DS RRs in presentation form, as `tandem ds` and `keymgr ds` print them)
// and --anchor files in delv's syntax (BIND 9.18 trust-anchors, and the older managed-keys / trusted-keys).
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { formatRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import { dsRdata, keyPairFromScalar } from '../../../src/dnssec/keys.js';
import { AnchorError, parseAnchorText, parseDsText } from '../../../src/lab/anchors.js';
import { dsMatches } from '../../../src/lab/keysets.js';
import { delvAnchorFile } from '../../helpers/validate.js';

const zone = Name.fromText('example.net.');
// RFC 6605 §6.1: the key and its DS.
const KEY = keyPairFromScalar(257, new Uint8Array(Buffer.from('GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=', 'base64')));
const DS = 'example.net. 3600 IN DS 55648 13 2 b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17';

describe('--ds FILE', () => {
  it('reads DS RRs with or without TTL and class, comments and blank lines skipped; other owners set aside', () => {
    const a = parseDsText(`; parent DS set\n${DS}\n\nexample.net. DS 55648 13 4 ${'ab'.repeat(48)}\nother.net. IN DS 1 13 2 ${'cd'.repeat(32)}\n`, 'ds.txt', zone);
    expect(a.ds.map((d) => formatRdata(RRType.DS, d).split(' ').slice(0, 3).join(' '))).toEqual(['55648 13 2', '55648 13 4']);
    expect(a.otherOwners).toEqual(['other.net.']);
    expect(a.keys).toEqual([]);
  });

  it('RFC 4034 §5.2: the RFC 6605 DS matches its key, and only that key', () => {
    const [ds] = parseDsText(DS, 'ds.txt', zone).ds;
    expect(dsMatches(zone, KEY.dnskey, ds)).toBe(true);
    expect(dsMatches(Name.fromText('example.com.'), KEY.dnskey, ds)).toBe(false);
    expect(dsMatches(zone, KEY.dnskey, dsRdata(zone, KEY.dnskey, 4))).toBe(true);
  });

  it.each([
    ['example.net. 3600 IN DNSKEY 257 3 13 AAAA', /^ds\.txt:1: not a DS record/],
    ['example.net. DS 1 13 2 zz', /^ds\.txt:1: DS/],
    [`other.net. DS 1 13 2 ${'ab'.repeat(32)}`, /^ds\.txt: no DS record for example\.net\. \(only for other\.net\.\)$/],
  ])('%j is refused with file and line: %s', (text, message) => {
    expect(() => parseDsText(text, 'ds.txt', zone)).toThrow(AnchorError);
    expect(() => parseDsText(text, 'ds.txt', zone)).toThrow(message);
  });
});

describe('--anchor FILE (delv -a syntax)', () => {
  it('reads the file the tests give delv (test/helpers/validate.ts delvAnchorFile)', () => {
    const a = parseAnchorText(delvAnchorFile([DS]), 'anchor.conf', zone);
    expect(a.ds).toHaveLength(1);
    expect(dsMatches(zone, KEY.dnskey, a.ds[0])).toBe(true);
  });

  it('static-key/initial-key anchors, managed-keys and trusted-keys, comments of every kind', () => {
    const key = formatRdata(RRType.DNSKEY, KEY.dnskey).split(' ');
    const text = `// delv anchors
trust-anchors {
  "example.net." initial-key ${key[0]} ${key[1]} ${key[2]} "${key[3].slice(0, 20)} ${key[3].slice(20)}"; # split base64
  "example.net." static-ds 55648 13 2 "B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17";
};
/* older forms */
managed-keys { example.org. initial-key 257 3 13 "${key[3]}"; };
trusted-keys { "example.net." 257 3 13 "${key[3]}"; };
`;
    const a = parseAnchorText(text, 'anchor.conf', zone);
    expect(a.keys.map((k) => Buffer.from(k).toString('hex'))).toEqual([Buffer.from(KEY.dnskey).toString('hex'), Buffer.from(KEY.dnskey).toString('hex')]);
    expect(a.ds).toHaveLength(1);
    expect(a.otherOwners).toEqual(['example.org.']);
  });

  it.each([
    ['options { };', /^anchor\.conf:1: expected trust-anchors, managed-keys or trusted-keys, found 'options'$/],
    ['trust-anchors { "example.net." dynamic-ds 1 13 2 "ab"; };', /^anchor\.conf:1: expected static-key, initial-key, static-ds or initial-ds, found 'dynamic-ds'$/],
    ['trust-anchors {\n "example.net." static-ds 1 13 2 "ab"\n};', /^anchor\.conf:3: expected ';'/],
    [`trust-anchors { "example.org." static-ds 1 13 2 "${'ab'.repeat(32)}"; };`, /no trust anchor for example\.net\. \(only for example\.org\.\)$/],
  ])('%j is refused with file and line', (text, message) => {
    expect(() => parseAnchorText(text, 'anchor.conf', zone)).toThrow(message);
  });
});
