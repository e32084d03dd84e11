// SPNEGO/GSS-API decoder: every SPNEGO token of the lab capture (SMB2 security blobs, LDAP
// GSS-SPNEGO binds) against tshark, the Kerberos AP-REQ inside an LDAP bind against tshark's
// Kerberos dissection, hand-built tokens for the forms the capture lacks, and 10,000 mutations.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeLdapMessage } from '../src/ldap-decoder.ts';
import { classifyWrapToken, decodeGssToken, type GssToken } from '../src/spnego-decoder.ts';
import { hex, tsvRows } from './test-bytes.ts';

const fixtures = join(import.meta.dirname, '../fixtures/testbed-default');

const rows = (name: string) => tsvRows(fixtures, name);

// ---------------------------------------------------------------------------------------------
// The lab capture against tshark 4.0.17 (commands in the fixture README):
//   tshark -r testbed-default.pcap -Y spnego -T fields -E aggregator=, -e frame.number -e tcp.dstport
//     -e spnego.MechType -e spnego.negResult -e spnego.supportedMech -e spnego.hintName
//     -e spnego.mechListMIC (as its length) -e spnego.krb5.tok_id
// Tokens come from `-e smb2.security_blob` for SMB2 and from the LDAP bind of each port-389 frame.

function tsharkColumns(t: GssToken): string[] {
  return [
    t.kind === 'neg-token-init' ? t.mechTypes.join(',') : '',
    t.kind === 'neg-token-resp' && t.negState !== undefined ? `${t.negState}` : '',
    t.kind === 'neg-token-resp' ? (t.supportedMech ?? '') : '',
    t.kind === 'neg-token-init' ? (t.hintName ?? '') : '',
    (t.kind === 'neg-token-init' || t.kind === 'neg-token-resp') && t.hasMechListMic ? 'MIC' : 'no MIC',
  ];
}

/** The GSS token of each frame: SMB2 security blobs, and LDAP bind credentials or server credentials. */
function tokens(): Map<number, { token?: GssToken; diagnostics: readonly unknown[] }> {
  const out = new Map<number, { token?: GssToken; diagnostics: readonly unknown[] }>();
  for (const [frame, , blob] of rows('smb2-security-blobs.tsv')) {
    // An empty blob is no token: a SESSION_SETUP failure reply (tshark writes <MISSING>).
    if (!blob || blob === '<MISSING>') continue;
    const { value, diagnostics } = decodeGssToken(hex(blob));
    out.set(Number(frame), { ...(value && { token: value }), diagnostics });
  }
  for (const [frame, , src, dst, payload] of rows('tcp-payloads.tsv')) {
    if (src !== '389' && dst !== '389') continue;
    const { value, diagnostics } = decodeLdapMessage(hex(payload ?? ''));
    const op = value?.protocolOp;
    const token =
      op?.kind === 'bindRequest' && op.authentication.kind === 'sasl'
        ? op.authentication.token
        : op?.kind === 'bindResponse'
          ? op.serverSaslCreds
          : undefined;
    if (token) out.set(Number(frame), { token, diagnostics });
  }
  return out;
}

describe('the lab capture against tshark', () => {
  const found = tokens();
  const expected = rows('spnego.tshark.tsv');

  it('decodes a token in every frame where tshark shows SPNEGO, without a diagnostic', () => {
    const spnegoFrames = [...found].flatMap(([frame, r]) =>
      r.token?.kind === 'neg-token-init' || r.token?.kind === 'neg-token-resp' ? [frame] : [],
    );
    expect(spnegoFrames.sort((a, b) => a - b)).toEqual(expected.map((r) => Number(r[0])));
    expect([...found.values()].flatMap((r) => r.diagnostics)).toEqual([]);
  });

  it.each(expected.map((r) => [r[0], r] as const))('frame %s matches tshark field by field', (frame, row) => {
    const token = found.get(Number(frame))?.token;
    if (!token) throw new Error(`no token in frame ${frame}`);
    expect(tsharkColumns(token)).toEqual([...row.slice(2, 6), row[6] === '0' ? 'no MIC' : 'MIC']);
  });

  it('exposes the Kerberos AP-REQ of the Kerberos LDAP bind (frame 900) as tshark dissects it', () => {
    // tshark: msg_type 14, SNameString ldap,DC1.corp.lab.test, realm CORP.LAB.TEST, etype 18,23 (ticket,
    // authenticator), kvno 1.
    const row = rows('kerberos.tshark.tsv').find((r) => r[0] === '900');
    expect(row?.slice(2, 8)).toEqual(['14', '', 'ldap,DC1.corp.lab.test', 'CORP.LAB.TEST', '', '18,23']);
    const token = found.get(900)?.token;
    expect(token && 'mechToken' in token && token.mechToken && 'tokenId' in token.mechToken).toBe(false);
    expect(token).toMatchObject({
      kind: 'neg-token-init',
      mechTypes: ['1.2.840.48018.1.2.2'],
      // Impacket puts the AP-REQ in mechToken without the RFC 1964 framing, so there is no TOK_ID.
      mechToken: {
        kind: 'kerberos',
        message: {
          kind: 'ap-req',
          msgType: 14,
          ticket: {
            realm: 'CORP.LAB.TEST',
            sname: { nameString: ['ldap', 'DC1.corp.lab.test'] },
            encPart: { etype: 18, kvno: 1 },
          },
          authenticator: { etype: 23 },
        },
      },
    });
  });

  it('finds the NTLM message inside every NTLM SPNEGO token', () => {
    const kinds: Record<string, number> = {};
    for (const { token } of found.values()) {
      const inner =
        token?.kind === 'neg-token-init'
          ? token.mechToken
          : token?.kind === 'neg-token-resp'
            ? token.responseToken
            : undefined;
      const key = inner?.kind === 'ntlmssp' ? inner.message.kind : (inner?.kind ?? 'none');
      kinds[key] = (kinds[key] ?? 0) + 1;
    }
    // 34 NTLM handshakes over SMB2 and LDAP (the 2 DCE/RPC ones carry bare NTLMSSP, not SPNEGO),
    // the Kerberos bind, and the tokens without a mechanism token (negotiate hints, final responses).
    expect(kinds).toEqual({ negotiate: 32, challenge: 32, authenticate: 32, kerberos: 1, none: 50 });
  });
});

describe('hand-built tokens (RFC 4178 §4.2, RFC 4121 §4.1, MS-SPNG §2.2.1)', () => {
  it('reads a NegTokenResp whose response token is an unframed Kerberos AP-REP', () => {
    // a1 { 30 { [0] ENUMERATED 0, [1] OID krb5, [2] OCTET STRING { AP-REP { pvno 5, msg-type 15,
    //   enc-part { etype 18, cipher '' } } } } }
    const resp = hex(`
      a1 33 30 31
        a0 03 0a 01 00
        a1 0b 06 09 2a 86 48 86 f7 12 01 02 02
        a2 1d 04 1b
          6f 19 30 17 a0 03 02 01 05 a1 03 02 01 0f a2 0b 30 09 a0 03 02 01 12 a2 02 04 00`);
    expect(decodeGssToken(resp)).toEqual({
      value: {
        kind: 'neg-token-resp',
        negState: 0,
        negStateName: 'accept-completed',
        supportedMech: '1.2.840.113554.1.2.2',
        responseToken: {
          kind: 'kerberos',
          message: {
            kind: 'ap-rep',
            msgType: 15,
            pvno: 5,
            encPart: { etype: 18, cipherLength: 0, cipherHead: '' },
          },
        },
        hasMechListMic: false,
      },
      diagnostics: [],
    });
  });

  it('tells Kerberos and NTLM wrap tokens apart and leaves them closed', () => {
    expect(classifyWrapToken(hex('050401ff000c000000000000'))).toBe('kerberos'); // RFC 4121 §4.2.6.2
    expect(classifyWrapToken(hex('040404ffffffffff00000000'))).toBe('kerberos'); // RFC 4121 §4.2.6.1
    expect(classifyWrapToken(hex('01000000 0102030405060708 00000000'))).toBe('ntlmssp'); // MS-NLMP §2.2.2.9
    expect(classifyWrapToken(hex(`6023 06092a864886f712010202 0201 1100 ffff ${'00'.repeat(24)}`))).toBe(
      'kerberos',
    ); // RFC 1964 §1.2.2
    expect(classifyWrapToken(hex('30 05 02 01 01 42 00'))).toBeUndefined();
    expect(decodeGssToken(hex('050401ff000c00000000000000000001'))).toEqual({
      value: { kind: 'wrap', mechanism: 'kerberos', length: 16 },
      diagnostics: [],
    });
  });

  it('reports a token that is none of SPNEGO, Kerberos or NTLMSSP, and a cut one', () => {
    expect(decodeGssToken(hex('deadbeef'), 0x10)).toEqual({
      diagnostics: [
        {
          severity: 'error',
          code: 'spnego/unknown-token',
          message: 'GSS token: expected SPNEGO, Kerberos or NTLMSSP, found de ad be ef at 0x10',
          offset: 0x10,
        },
      ],
    });
    expect(decodeGssToken(hex('a1 10 30 0e a0 03 0a 01')).diagnostics.map((d) => d.code)).toEqual([
      'spnego/bad-encoding',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: mutated SPNEGO tokens (with the Kerberos and NTLM messages inside) never throw.

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
    switch (rng.below(4)) {
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
        const lengths = [
          [0x00],
          [0x7f],
          [0x80],
          [0x81, 0xff],
          [0x84, 0xff, 0xff, 0xff, 0xff],
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
      default:
        for (let i = at; i < Math.min(out.length, at + 1 + rng.below(16)); i++) out[i] = rng.below(256);
    }
  }
  return out;
}

describe('robustness', () => {
  const blobs = rows('smb2-security-blobs.tsv').flatMap(([, , blob]) =>
    blob && blob !== '<MISSING>' ? [hex(blob)] : [],
  );
  const ldapKerberos = rows('tcp-payloads.tsv').find((r) => r[0] === '900')?.[4] ?? '';
  // The Kerberos bind's credentials start after the LDAP header: search for the GSS header.
  const bind = hex(ldapKerberos);
  const kerberosToken = bind.subarray(bind.indexOf(0x60, 20));

  it('10,000 mutated tokens never throw out of decodeGssToken, and each ends quickly', () => {
    const inputs = [...blobs, kerberosToken];
    const rng = xorshift(0x53504e47);
    let decoded = 0;
    for (let i = 0; i < 10_000; i++) {
      const input = mutate(
        inputs[i % 10 === 0 ? inputs.length - 1 : rng.below(inputs.length)] as Uint8Array,
        rng,
      );
      const started = performance.now();
      const result = decodeGssToken(input);
      const took = performance.now() - started;
      if (took > 1000) throw new Error(`input ${i} took ${took} ms: ${Buffer.from(input).toString('hex')}`);
      if (result.value) decoded++;
      else expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    }
    expect(decoded).toBeGreaterThan(1000);
  });
});
