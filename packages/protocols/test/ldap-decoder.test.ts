// LDAP decoder: the RFC 4515 §4 filter examples encoded by an independent BER encoder, the lab
// capture's port-389 streams against tshark (operations, binds, results, filters, SASL-wrapped
// PDUs), LdapTcpStream at many split points, and 10,000 mutated messages and streams.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeLdapMessage,
  escapeFilterValue,
  type LdapMessage,
  type LdapPdu,
  LdapTcpStream,
  ldapOperationNames,
} from '../src/ldap-decoder.ts';
import { hex, tlv, tsvRows } from './test-bytes.ts';

const fixtures = join(import.meta.dirname, '../fixtures/testbed-default');

const rows = (name: string) => tsvRows(fixtures, name);

const str = (tag: number, s: string) => tlv(tag, Array.from(Buffer.from(s, 'utf8')));

/** A SearchRequest for `filter` (BER bytes) with base "", scope base, no limits, no attributes. */
function searchRequest(filter: Uint8Array): Uint8Array {
  const op = tlv(
    0x63,
    str(0x04, ''),
    [0x0a, 1, 0, 0x0a, 1, 0, 0x02, 1, 0, 0x02, 1, 0, 0x01, 1, 0],
    filter,
    [0x30, 0],
  );
  return tlv(0x30, [0x02, 1, 7], op);
}

// RFC 4515 §4's examples (and one of each remaining operator), encoded to BER by ldap3 2.9.1 with
// pyasn1 (Debian python3-ldap3), not by this project:
//   /usr/bin/python3 -c 'import sys; from ldap3.operation.search import parse_filter, compile_filter
//     from pyasn1.codec.ber import encoder
//     for f in sys.stdin.read().splitlines(): print(f, encoder.encode(compile_filter(
//       parse_filter(f, None, False, False, None, False).elements[0])).hex(), sep="\t")'
// The third column is our rendering where it differs from the RFC's text: the same filter, as
// ldap3 confirms by encoding our text to the same bytes. We write `dn` in lower case, hex digits in
// lower case, and valid UTF-8 as itself; we escape control characters, which RFC 4515 allows.
const rfc4515: [string, string, string?][] = [
  ['(cn=Babs Jensen)', 'a3110402636e040b42616273204a656e73656e'],
  ['(!(cn=Tim Howes))', 'a211a30f0402636e040954696d20486f776573'],
  [
    '(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))',
    'a037a315040b6f626a656374436c6173730406506572736f6ea11ea30c0402736e04064a656e73656ea40e0402636e3008800642616273204a',
  ],
  ['(o=univ*of*mich*)', 'a41504016f30108004756e697681026f6681046d696368'],
  ['(seeAlso=)', 'a30b0407736565416c736f0400'],
  [
    '(cn:caseExactMatch:=Fred Flintstone)',
    'a925810e6361736545786163744d617463688202636e830f4672656420466c696e7473746f6e65',
  ],
  ['(cn:=Betty Rubble)', 'a9128202636e830c426574747920527562626c65'],
  [
    '(sn:dn:2.4.6.8.10:=Barney Rubble)',
    'a922810a322e342e362e382e31308202736e830d4261726e657920527562626c65840101',
  ],
  ['(o:dn:=Ace Industry)', 'a91482016f830c41636520496e647573747279840101'],
  ['(:1.2.3:=Wilma Flintstone)', 'a9198105312e322e33831057696c6d6120466c696e7473746f6e65'],
  ['(:DN:2.4.6.8.10:=Dino)', 'a915810a322e342e362e382e3130830444696e6f840101', '(:dn:2.4.6.8.10:=Dino)'],
  [
    '(o=Parens R Us \\28for all your parenthetical needs\\29)',
    'a33304016f042e506172656e7320522055732028666f7220616c6c20796f757220706172656e746865746963616c206e6565647329',
  ],
  ['(cn=*\\2A*)', 'a4090402636e300381012a', '(cn=*\\2a*)'],
  ['(filename=C:\\5cMyFile)', 'a315040866696c656e616d650409433a5c4d7946696c65'],
  ['(bin=\\00\\00\\00\\04)', 'a30b040362696e040400000004'],
  ['(sn=Lu\\c4\\8di\\c4\\87)', 'a30d0402736e04074c75c48d69c487', '(sn=Lučić)'],
  [
    '(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)',
    'a31a0412312e332e362e312e342e312e313436362e30040404024869',
    '(1.3.6.1.4.1.1466.0=\\04\\02Hi)',
  ],
  ['(uid>=a)', 'a5080403756964040161'],
  ['(uid<=z)', 'a608040375696404017a'],
  ['(cn~=Babs)', 'a80a0402636e040442616273'],
  ['(cn=*)', '8702636e'],
];

describe('filters as RFC 4515 text', () => {
  it.each(rfc4515)('%s', (text, ber, ours) => {
    const { value, diagnostics } = decodeLdapMessage(searchRequest(hex(ber)));
    expect(diagnostics).toEqual([]);
    expect(value?.protocolOp).toEqual({
      kind: 'searchRequest',
      baseObject: '',
      scope: 0,
      derefAliases: 0,
      sizeLimit: 0,
      timeLimit: 0,
      typesOnly: false,
      filter: ours ?? text,
      attributes: [],
    });
  });

  it('escapes what RFC 4515 §3 requires, bytes that are not UTF-8, and control characters', () => {
    const bytes = (...b: number[]) => Uint8Array.from(b);
    expect(escapeFilterValue(Buffer.from('a*(b)\\c'))).toBe('a\\2a\\28b\\29\\5cc');
    expect(escapeFilterValue(bytes(0x00, 0x0a, 0x7f, 0x41))).toBe('\\00\\0a\\7fA');
    // Overlong, surrogate, truncated and out-of-range sequences (RFC 3629 §3) stay as bytes.
    expect(escapeFilterValue(bytes(0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xe2, 0x82, 0xf4, 0x90, 0x80, 0x80))).toBe(
      '\\c0\\af\\ed\\a0\\80\\e2\\82\\f4\\90\\80\\80',
    );
    expect(escapeFilterValue(Buffer.from('€ 𝄞'))).toBe('€ 𝄞');
  });

  it('reports a filter choice that does not exist, and nesting past the depth limit', () => {
    expect(decodeLdapMessage(searchRequest(hex('aa020400')), 0x20).diagnostics).toEqual([
      {
        severity: 'error',
        code: 'ldap/bad-filter',
        message: 'filter: expected a Filter choice [0]–[9] (RFC 4511 §4.5.1.7), found aa 02 04 00 at 0x38',
        offset: 0x38,
      },
    ]);
    let deep = hex('8702636e');
    for (let i = 0; i < 40; i++) deep = tlv(0xa2, deep);
    expect(decodeLdapMessage(searchRequest(deep)).diagnostics.map((d) => d.code)).toEqual(['ldap/too-deep']);
  });
});

describe('binds and results', () => {
  it('keeps a simple bind password’s length only', () => {
    const bind = tlv(
      0x30,
      [0x02, 1, 1],
      tlv(0x60, [0x02, 1, 3], str(0x04, 'alice@corp.lab.test'), str(0x80, 'Secret123!')),
    );
    const { value } = decodeLdapMessage(bind);
    expect(value).toEqual({
      messageID: 1,
      protocolOp: {
        kind: 'bindRequest',
        version: 3,
        name: 'alice@corp.lab.test',
        authentication: { kind: 'simple', passwordLength: 10 },
      },
    });
    expect(JSON.stringify(value)).not.toContain('Secret');
  });

  it('keeps neither credentials of other SASL mechanisms nor attribute values', () => {
    const plain = tlv(
      0x30,
      [0x02, 1, 2],
      tlv(0x60, [0x02, 1, 3], str(0x04, ''), tlv(0xa3, str(0x04, 'PLAIN'), str(0x04, '\0bob\0pw'))),
    );
    expect(decodeLdapMessage(plain).value?.protocolOp).toEqual({
      kind: 'bindRequest',
      version: 3,
      name: '',
      authentication: { kind: 'sasl', mechanism: 'PLAIN', credentialsLength: 7 },
    });
    const entry = tlv(
      0x30,
      [0x02, 1, 3],
      tlv(
        0x64,
        str(0x04, 'CN=bob,CN=Users'),
        tlv(0x30, tlv(0x30, str(0x04, 'unicodePwd'), tlv(0x31, str(0x04, 'x'), str(0x04, 'y')))),
      ),
      tlv(0xa0, tlv(0x30, str(0x04, '1.2.840.113556.1.4.801'), [0x01, 1, 0xff])),
    );
    expect(decodeLdapMessage(entry).value).toEqual({
      messageID: 3,
      protocolOp: {
        kind: 'searchResEntry',
        objectName: 'CN=bob,CN=Users',
        attributes: [{ type: 'unicodePwd', valueCount: 2 }],
      },
      controls: ['1.2.840.113556.1.4.801'],
    });
  });

  it('reads Active Directory’s reason for a failed bind, and StartTLS', () => {
    const response = tlv(
      0x30,
      [0x02, 1, 1],
      tlv(
        0x61,
        [0x0a, 1, 49],
        str(0x04, ''),
        str(0x04, '80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563'),
      ),
    );
    expect(decodeLdapMessage(response).value?.protocolOp).toEqual({
      kind: 'bindResponse',
      result: {
        resultCode: 49,
        resultName: 'invalidCredentials',
        matchedDN: '',
        diagnosticMessage:
          '80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563',
      },
    });
    const startTls = tlv(0x30, [0x02, 1, 1], tlv(0x77, str(0x80, '1.3.6.1.4.1.1466.20037')));
    expect(decodeLdapMessage(startTls).value?.protocolOp).toEqual({
      kind: 'extendedReq',
      requestName: '1.3.6.1.4.1.1466.20037',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The lab capture against tshark 4.0.17 (commands in the fixture README):
//   tshark -r testbed-default.pcap -Y ldap -T fields -E 'aggregator=|' -e frame.number
//     -e ldap.messageID -e ldap.protocolOp -e ldap.version -e ldap.name -e ldap.authentication
//     -e ldap.mechanism -e ldap.resultCode -e ldap.baseObject -e ldap.scope -e ldap.objectName
//     -e ldap.sasl_buffer_length
// and each searchRequest's "Filter:" line of `tshark -r … -Y 'ldap.protocolOp == 3' -O ldap -V`.
// Each direction of each port-389 stream goes through LdapTcpStream; a PDU belongs to the frame
// whose segment completed it.

const opNumbers = new Map(Object.entries(ldapOperationNames).map(([n, name]) => [name, n]));

function tsharkColumns(pdus: readonly LdapPdu[]): string[] {
  const messages = pdus.flatMap((p) => (p.kind === 'message' ? [p.message] : []));
  const ops = messages.map((m) => m.protocolOp);
  const pick = (f: (m: LdapMessage) => string | number | undefined) =>
    messages.flatMap((m) => {
      const v = f(m);
      return v === undefined ? [] : [`${v}`];
    });
  const authNumber = {
    simple: 0,
    sasl: 3,
    sicilyPackageDiscovery: 9,
    sicilyNegotiate: 10,
    sicilyResponse: 11,
    unknown: -1,
  };
  return [
    messages.map((m) => m.messageID).join('|'),
    ops.map((op) => opNumbers.get(op.kind)).join('|'),
    pick((m) => (m.protocolOp.kind === 'bindRequest' ? m.protocolOp.version : undefined)).join('|'),
    pick((m) => (m.protocolOp.kind === 'bindRequest' ? m.protocolOp.name : undefined)).join('|'),
    pick((m) =>
      m.protocolOp.kind === 'bindRequest' ? authNumber[m.protocolOp.authentication.kind] : undefined,
    ).join('|'),
    pick((m) =>
      m.protocolOp.kind === 'bindRequest' && m.protocolOp.authentication.kind === 'sasl'
        ? m.protocolOp.authentication.mechanism
        : undefined,
    ).join('|'),
    pick((m) => ('result' in m.protocolOp ? m.protocolOp.result.resultCode : undefined)).join('|'),
    pick((m) => (m.protocolOp.kind === 'searchRequest' ? m.protocolOp.baseObject : undefined)).join('|'),
    pick((m) => (m.protocolOp.kind === 'searchRequest' ? m.protocolOp.scope : undefined)).join('|'),
    pick((m) => (m.protocolOp.kind === 'searchResEntry' ? m.protocolOp.objectName : undefined)).join('|'),
    pdus.flatMap((p) => (p.kind === 'sealed' ? [p.length] : [])).join('|'),
  ];
}

/** Every port-389 direction of the capture through LdapTcpStream: PDUs by completing frame. */
function decodeCapture(split?: (bytes: Uint8Array) => Uint8Array[]) {
  const streams = new Map<string, LdapTcpStream>();
  const byFrame = new Map<number, LdapPdu[]>();
  const diagnostics: unknown[] = [];
  for (const [frame, stream, src, dst, payload] of rows('tcp-payloads.tsv')) {
    if (src !== '389' && dst !== '389') continue;
    const key = `${stream} ${src}>${dst}`;
    let s = streams.get(key);
    if (!s) streams.set(key, (s = new LdapTcpStream()));
    const bytes = hex(payload ?? '');
    for (const piece of split ? split(bytes) : [bytes]) {
      const result = s.push(piece);
      if (result.pdus.length > 0)
        byFrame.set(Number(frame), [...(byFrame.get(Number(frame)) ?? []), ...result.pdus]);
      diagnostics.push(...result.diagnostics);
    }
  }
  for (const s of streams.values()) diagnostics.push(...s.end());
  return { byFrame, diagnostics };
}

describe('the lab capture against tshark', () => {
  const { byFrame, diagnostics } = decodeCapture();
  const expected = rows('ldap.tshark.tsv');

  it('decodes every LDAP PDU tshark shows, in the same frames, without a diagnostic', () => {
    expect(diagnostics).toEqual([]);
    expect([...byFrame.keys()]).toEqual(expected.map((r) => Number(r[0])));
  });

  it.each(expected.map((r) => [r[0], r] as const))('frame %s matches tshark field by field', (frame, row) => {
    expect(tsharkColumns(byFrame.get(Number(frame)) ?? [])).toEqual(row.slice(1));
  });

  // tshark renders an n-ary AND or OR as nested pairs, (&(&(&(a)(b))(c))(d)), which is not what the
  // bytes say: frame 904's filter is one AND of four items (checked with `tshark -V`, "and: 4 items").
  const tsharkFilterQuirks: Record<string, string> = {
    '904':
      '(&(servicePrincipalName=*)(UserAccountControl:1.2.840.113556.1.4.803:=512)(!(UserAccountControl:1.2.840.113556.1.4.803:=2))(!(objectCategory=computer)))',
  };

  it.each(rows('ldap-filters.tshark.tsv').map((r) => [r[0], r[1]] as const))(
    'frame %s renders the filter tshark shows',
    (frame, filter) => {
      const filters = (byFrame.get(Number(frame)) ?? []).flatMap((p) =>
        p.kind === 'message' && p.message.protocolOp.kind === 'searchRequest'
          ? [p.message.protocolOp.filter]
          : [],
      );
      expect(filters).toEqual([tsharkFilterQuirks[frame ?? ''] ?? filter]);
    },
  );

  it('hands SASL credentials to SPNEGO and NTLM: the binds of the capture by mechanism and user', () => {
    const binds = [...byFrame.values()].flat().flatMap((p) => {
      if (p.kind !== 'message' || p.message.protocolOp.kind !== 'bindRequest') return [];
      const auth = p.message.protocolOp.authentication;
      if (auth.kind === 'simple') return [`simple ${p.message.protocolOp.name || '(anonymous)'}`];
      if (auth.kind !== 'sasl') return [auth.kind];
      const token = auth.token;
      const inner =
        token?.kind === 'neg-token-init'
          ? token.mechToken
          : token?.kind === 'neg-token-resp'
            ? token.responseToken
            : token;
      if (inner?.kind === 'ntlmssp')
        return [
          `${auth.mechanism} NTLM ${inner.message.kind}${inner.message.kind === 'authenticate' ? ` ${inner.message.userName}` : ''}`,
        ];
      if (inner?.kind === 'kerberos' && inner.message.kind === 'ap-req')
        return [`${auth.mechanism} Kerberos AP-REQ for ${inner.message.ticket.sname.nameString.join('/')}`];
      return [`${auth.mechanism} ${inner?.kind}`];
    });
    const counts: Record<string, number> = {};
    for (const b of binds) counts[b] = (counts[b] ?? 0) + 1;
    // summary-default.txt: 22 GSS-SPNEGO binds (11 NTLM handshakes by administrator), 3 anonymous and
    // 13 alice@corp.lab.test simple binds, one Kerberos GSS-SPNEGO bind and one Sicily NEGOTIATE by alice.
    expect(counts).toEqual({
      'GSS-SPNEGO NTLM negotiate': 11,
      'GSS-SPNEGO NTLM authenticate administrator': 11,
      'simple (anonymous)': 3,
      'simple alice@corp.lab.test': 13,
      'GSS-SPNEGO Kerberos AP-REQ for ldap/DC1.corp.lab.test': 1,
      sicilyNegotiate: 1,
    });
  });

  it('reports what NTLM sealing left unreadable as sealed PDUs', () => {
    const sealed = [...byFrame.values()].flat().filter((p) => p.kind === 'sealed');
    expect(sealed.length).toBe(expected.filter((r) => r[11] !== '').length);
    expect(new Set(sealed.map((p) => p.kind === 'sealed' && p.mechanism))).toEqual(new Set(['ntlmssp']));
  });

  it('decodes the whole capture to the golden output', async () => {
    const text = [...byFrame].map(([frame, pdus]) => JSON.stringify({ frame, pdus })).join('\n');
    await expect(`${text}\n`).toMatchFileSnapshot(join(fixtures, 'goldens/ldap-decoded.jsonl'));
  });

  it('gives the same PDUs when every segment is cut into pieces of 1 to 7 bytes', () => {
    let n = 0;
    const pieces = (bytes: Uint8Array) => {
      const out: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const next = at + 1 + (n++ % 7);
        out.push(bytes.subarray(at, next));
        at = next;
      }
      return out;
    };
    const cut = decodeCapture(pieces);
    expect(cut.diagnostics).toEqual([]);
    const flat = (m: Map<number, LdapPdu[]>) => [...m.values()].flat();
    expect(flat(cut.byFrame)).toEqual(flat(byFrame));
  });
});

describe('LdapTcpStream', () => {
  it('reports a SASL buffer split anywhere, and TLS records after StartTLS, without opening them', () => {
    // An NTLMSSP-sealed SASL buffer: length 20, signature version 1, 12 bytes, 4 bytes of data.
    const sealed = hex('00000014 01000000 0102030405060708090a0b0c deadbeef');
    for (let cut = 0; cut <= sealed.length; cut++) {
      const s = new LdapTcpStream();
      const pdus = [...s.push(sealed.subarray(0, cut)).pdus, ...s.push(sealed.subarray(cut)).pdus];
      expect(pdus).toEqual([{ kind: 'sealed', offset: 0, length: 20, mechanism: 'ntlmssp' }]);
      expect(s.end()).toEqual([]);
    }
    const s = new LdapTcpStream();
    // A Kerberos (RFC 4121) wrap token in a SASL buffer, then a TLS handshake record.
    const kerberos = hex('00000010 050401ff000c0000 0000000000000001');
    const tls = hex('16030100050100000100');
    const both = new Uint8Array(kerberos.length + tls.length);
    both.set(kerberos);
    both.set(tls, kerberos.length);
    expect(s.push(both).pdus).toEqual([
      { kind: 'sealed', offset: 0, length: 16, mechanism: 'kerberos' },
      { kind: 'tls', offset: 20, length: 10 },
    ]);
  });

  it('skips a SASL buffer that spans segments and keeps the stream offsets of what follows', () => {
    const unbind = hex('30050201094200');
    const message = { messageID: 9, protocolOp: { kind: 'unbindRequest' } };
    // 100 bytes of SASL buffer: an NTLMSSP signature and 84 bytes of sealed data.
    const sealed = hex(`00000064 01000000 0102030405060708090a0b0c ${'ee'.repeat(84)}`);
    const s = new LdapTcpStream();
    const first = s.push(Uint8Array.from([...unbind, ...sealed.subarray(0, 80)]));
    const second = s.push(sealed.subarray(80, 90));
    const third = s.push(Uint8Array.from([...sealed.subarray(90), ...unbind]));
    expect([first.pdus, second.pdus, third.pdus]).toEqual([
      [{ kind: 'message', offset: 0, message }],
      [],
      [
        { kind: 'sealed', offset: 7, length: 100, mechanism: 'ntlmssp' },
        { kind: 'message', offset: 111, message },
      ],
    ]);
    expect(s.end()).toEqual([]);
  });

  it('drops bytes it cannot frame and resumes at the next segment', () => {
    const s = new LdapTcpStream();
    expect(s.push(hex('deadbeef')).diagnostics).toEqual([
      {
        severity: 'error',
        code: 'ldap/unrecognized-data',
        message:
          'expected an LDAPMessage (30 …), a SASL buffer or a TLS record, found de ad be ef at 0x0; dropping 4 buffered bytes',
        offset: 0,
      },
    ]);
    const unbind = hex('30050201094200');
    expect(s.push(unbind).pdus).toEqual([
      { kind: 'message', offset: 4, message: { messageID: 9, protocolOp: { kind: 'unbindRequest' } } },
    ]);
  });

  it('refuses messages over the size limit and reports one cut off by the end of the stream', () => {
    const s = new LdapTcpStream(100);
    expect(s.push(hex('30820200')).diagnostics.map((d) => d.code)).toEqual(['ldap/message-too-large']);
    const t = new LdapTcpStream();
    t.push(hex('3005020109'));
    expect(t.end()).toEqual([
      {
        severity: 'error',
        code: 'ldap/truncated',
        message: 'expected a whole LDAPMessage, found the stream ending 5 bytes short of it (30 05 02 01 09)',
        offset: 0,
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: mutated messages through decodeLdapMessage, mutated streams through LdapTcpStream.

function xorshift(seed: number) {
  let state = seed >>> 0 || 1;
  const u32 = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return { u32, below: (n: number) => Math.floor((u32() / 0x1_0000_0000) * n) };
}

type Rng = ReturnType<typeof xorshift>;

function mutate(input: Uint8Array, rng: Rng): Uint8Array {
  let out = Uint8Array.from(input);
  for (let round = 0, rounds = 1 + rng.below(3); round < rounds && out.length > 0; round++) {
    const at = rng.below(out.length);
    switch (rng.below(5)) {
      case 0:
        for (let i = 0, n = 1 + rng.below(8); i < n; i++) {
          const p = rng.below(out.length);
          out[p] = (out[p] as number) ^ (1 << rng.below(8));
        }
        break;
      case 1:
        out = out.slice(0, at);
        break;
      case 2: {
        // An absurd BER length at a random position.
        const lengths = [
          [0x00],
          [0x7f],
          [0x80],
          [0x81, 0xff],
          [0x84, 0xff, 0xff, 0xff, 0xff],
          [0x85],
          [rng.below(256)],
        ];
        const value = lengths[rng.below(lengths.length)] as number[];
        const grown = new Uint8Array(out.length + value.length - 1);
        grown.set(out.subarray(0, at));
        grown.set(value, at);
        grown.set(out.subarray(at + 1), at + value.length);
        out = grown;
        break;
      }
      case 3:
        for (let i = at; i < Math.min(out.length, at + 1 + rng.below(16)); i++) out[i] = rng.below(256);
        break;
      default: {
        // Nest a piece inside itself: deep filters and constructed elements.
        const piece = out.slice(at, at + 1 + rng.below(32));
        const grown = new Uint8Array(out.length + piece.length);
        grown.set(out.subarray(0, at));
        grown.set(piece, at);
        grown.set(out.subarray(at), at + piece.length);
        out = grown;
      }
    }
  }
  return out;
}

describe('robustness', () => {
  const { byFrame } = decodeCapture();
  const samples: Uint8Array[] = [];
  for (const [, , src, dst, payload] of rows('tcp-payloads.tsv')) {
    if ((src === '389' || dst === '389') && (payload?.startsWith('30') ?? false) && samples.length < 200)
      samples.push(hex(payload ?? ''));
  }

  it('10,000 mutated messages never throw out of decodeLdapMessage, and each ends quickly', () => {
    expect(byFrame.size).toBeGreaterThan(0);
    const rng = xorshift(0x4c444150);
    let decoded = 0;
    for (let i = 0; i < 10_000; i++) {
      const input = mutate(samples[rng.below(samples.length)] as Uint8Array, rng);
      const started = performance.now();
      const result = decodeLdapMessage(input);
      const took = performance.now() - started;
      if (took > 1000) throw new Error(`input ${i} took ${took} ms: ${Buffer.from(input).toString('hex')}`);
      if (result.value) decoded++;
      else expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    }
    expect(decoded).toBeGreaterThan(1000);
  });

  it('mutated streams in random segments never throw out of LdapTcpStream', () => {
    const rng = xorshift(0x53545245);
    for (let i = 0; i < 1000; i++) {
      const stream = mutate(samples[rng.below(samples.length)] as Uint8Array, rng);
      const s = new LdapTcpStream(1 << 16);
      for (let at = 0; at < stream.length; ) {
        const next = at + 1 + rng.below(100);
        s.push(stream.subarray(at, next));
        at = next;
      }
      s.end();
    }
  });
});
