// GSS-API tokens as SMB, LDAP, HTTP and DCE/RPC carry them: SPNEGO NegTokenInit/NegTokenResp
// (RFC 4178, MS-SPNG) and bare Kerberos (RFC 4121 §4.1) or NTLMSSP tokens. The mechanism token
// inside is handed to the Kerberos or NTLM decoder; wrap tokens are recognised, never opened.
import { hexPreview, ParseError } from '@palisade/binary';
import { type BerElement, BerReader, universalTags } from './asn1-ber.ts';
import { decodeKerberosMessage, type KerberosDiagnostic, type KerberosMessage } from './kerberos-decoder.ts';
import {
  decodeNtlmMessage,
  type NtlmDiagnostic,
  type NtlmMessage,
  startsWithNtlmssp,
} from './ntlm-decoder.ts';

/** Every condition the SPNEGO decoder reports. */
export const spnegoDiagnosticCodes = [
  'spnego/truncated',
  'spnego/bad-encoding',
  'spnego/too-deep',
  'spnego/bad-value',
  'spnego/unknown-token',
] as const;

export type SpnegoDiagnosticCode = (typeof spnegoDiagnosticCodes)[number];

/** A finding about one token; `error` means the token was not decoded. */
export interface SpnegoDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: SpnegoDiagnosticCode;
  readonly message: string;
  readonly offset: number;
}

/** Diagnostics of a token and of the Kerberos or NTLM message inside it. */
export type GssDiagnostic = SpnegoDiagnostic | KerberosDiagnostic | NtlmDiagnostic;

/** Mechanism OIDs seen in SPNEGO (RFC 4178, RFC 4121, MS-SPNG §1.9, MS-NLMP §1.9, MS-NEGOEX). */
export const mechanismNames: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.2': 'SPNEGO',
  '1.2.840.113554.1.2.2': 'Kerberos 5',
  '1.2.840.48018.1.2.2': 'MS Kerberos 5',
  '1.2.840.113554.1.2.2.3': 'Kerberos 5 user-to-user',
  '1.3.6.1.4.1.311.2.2.10': 'NTLMSSP',
  '1.3.6.1.4.1.311.2.2.30': 'NEGOEX',
};

export const SPNEGO_OID = '1.3.6.1.5.5.2';
/** The two Kerberos OIDs: the standard one and the one Windows 2000 used by mistake, still accepted. */
export const KERBEROS_OIDS: readonly string[] = ['1.2.840.113554.1.2.2', '1.2.840.48018.1.2.2'];

/** negState of NegTokenResp (RFC 4178 §4.2.2). */
export const negStateNames = ['accept-completed', 'accept-incomplete', 'reject', 'request-mic'] as const;

/** ContextFlags bits (RFC 4178 §4.2.1), bit 0 first. */
const contextFlagNames = [
  'delegFlag',
  'mutualFlag',
  'replayFlag',
  'sequenceFlag',
  'anonFlag',
  'confFlag',
  'integFlag',
];

/** A mechanism token: a Kerberos or NTLMSSP message, a per-message wrap token, or something else. */
export type GssMechToken =
  | {
      readonly kind: 'kerberos';
      /** RFC 1964 TOK_ID: 0x0100 AP-REQ, 0x0200 AP-REP, 0x0300 KRB-ERROR; absent when unframed. */
      readonly tokenId?: number;
      readonly message: KerberosMessage;
    }
  | { readonly kind: 'ntlmssp'; readonly message: NtlmMessage }
  | { readonly kind: 'wrap'; readonly mechanism: 'kerberos' | 'ntlmssp'; readonly length: number }
  | { readonly kind: 'unknown'; readonly length: number };

/** NegTokenInit (RFC 4178 §4.2.1), or NegTokenInit2 with negHints (MS-SPNG §2.2.1). */
export interface NegTokenInit {
  readonly kind: 'neg-token-init';
  /** Mechanism OIDs in the client's order of preference. */
  readonly mechTypes: readonly string[];
  readonly reqFlags?: readonly string[];
  readonly mechToken?: GssMechToken;
  /** negHints hintName: `not_defined_in_RFC4178@please_ignore` from Windows servers. */
  readonly hintName?: string;
  readonly hasMechListMic: boolean;
}

/** NegTokenResp (RFC 4178 §4.2.2). */
export interface NegTokenResp {
  readonly kind: 'neg-token-resp';
  readonly negState?: number;
  readonly negStateName?: (typeof negStateNames)[number];
  readonly supportedMech?: string;
  readonly responseToken?: GssMechToken;
  readonly hasMechListMic: boolean;
}

export type GssToken = NegTokenInit | NegTokenResp | GssMechToken;

export interface GssDecodeResult {
  readonly value?: GssToken;
  readonly diagnostics: readonly GssDiagnostic[];
}

/**
 * Decodes a GSS-API token: SPNEGO, a bare Kerberos token (SASL GSSAPI) or a bare NTLMSSP message.
 * @example decodeGssToken(saslCredentials).value?.kind // 'neg-token-init'
 */
export function decodeGssToken(bytes: Uint8Array, base = 0): GssDecodeResult {
  const diagnostics: GssDiagnostic[] = [];
  try {
    const value = readToken(bytes, base, diagnostics);
    return value ? { value, diagnostics } : { diagnostics };
  } catch (error) {
    diagnostics.push(toDiagnostic(error, base));
    return { diagnostics };
  }
}

/**
 * What mechanism's per-message token this is, if any: Kerberos wrap or MIC tokens (RFC 4121
 * §4.2.6: 05 04 or 04 04; RFC 1964 §1.2: 0x60-framed 02 01 or 01 01) or an NTLMSSP signature
 * (MS-NLMP §2.2.2.9: version 1). Used to recognise SASL-wrapped LDAP without opening it.
 */
export function classifyWrapToken(bytes: Uint8Array): 'kerberos' | 'ntlmssp' | undefined {
  const [a, b, c, d] = bytes;
  if ((a === 0x05 || a === 0x04) && b === 0x04) return 'kerberos';
  if (a === 0x01 && b === 0x00 && c === 0x00 && d === 0x00) return 'ntlmssp';
  if (a === 0x60 && bytes.length > 16) {
    const framed = krb5Framed(bytes);
    if (framed && (framed.tokenId === 0x0201 || framed.tokenId === 0x0101)) return 'kerberos';
  }
  return undefined;
}

function readToken(bytes: Uint8Array, base: number, diagnostics: GssDiagnostic[]): GssToken | undefined {
  const first = bytes[0];
  if (first === 0x60) {
    // InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE { thisMech MechType,
    //   innerContextToken ANY DEFINED BY thisMech } (RFC 2743 §3.1)
    const ber = new BerReader(bytes, base);
    const root = ber.expect(ber.root('InitialContextToken'), 'application', 0, 'InitialContextToken', true);
    const mechEl = ber.element(root.contentOffset, root.end, 1, 'thisMech');
    const mech = ber.objectIdentifier(
      ber.expect(mechEl, 'universal', universalTags.objectIdentifier, 'thisMech'),
      'thisMech',
    );
    if (mech === SPNEGO_OID)
      return readNegotiationToken(ber, ber.element(mechEl.end, root.end, 1, 'NegotiationToken'), diagnostics);
    return readMechToken(bytes, base, diagnostics);
  }
  if (first === 0xa0 || first === 0xa1) {
    const ber = new BerReader(bytes, base);
    return readNegotiationToken(ber, ber.root('NegotiationToken'), diagnostics);
  }
  const before = diagnostics.length;
  const token = readMechToken(bytes, base, diagnostics);
  // A Kerberos or NTLMSSP message that failed has said why; anything else is not a GSS token.
  if (token.kind === 'unknown' && diagnostics.length > before) return undefined;
  if (token.kind === 'unknown') {
    throw new ParseError<SpnegoDiagnosticCode>({
      code: 'spnego/unknown-token',
      offset: base,
      field: 'GSS token',
      expected: 'SPNEGO, Kerberos or NTLMSSP',
      found: hexPreview(bytes, 0, 8),
    });
  }
  return token;
}

/** NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp } */
function readNegotiationToken(
  ber: BerReader,
  el: BerElement,
  diagnostics: GssDiagnostic[],
): NegTokenInit | NegTokenResp {
  if (el.tagClass === 'context' && el.tagNumber === 1)
    return readNegTokenResp(ber, ber.explicit(el, 'negTokenResp'), diagnostics);
  ber.expect(el, 'context', 0, 'NegotiationToken', true);
  const seq = ber.expect(
    ber.explicit(el, 'negTokenInit'),
    'universal',
    universalTags.sequence,
    'negTokenInit',
    true,
  );
  const f = ber.tagged(seq, 'negTokenInit');
  const mechTypesEl = ber.required(f, 0, seq, 'mechTypes');
  const reqFlagsEl = ber.optional(f, 1, 'reqFlags');
  const mechTokenEl = ber.optional(f, 2, 'mechToken');
  // [3] is mechListMIC in RFC 4178 but negHints in MS-SPNG's NegTokenInit2, where the MIC is [4].
  const third = ber.optional(f, 3, 'negHints');
  const negHints = third?.constructed ? third : undefined;
  const hintNameEl = negHints ? ber.optional(ber.tagged(negHints, 'negHints'), 0, 'hintName') : undefined;
  return {
    kind: 'neg-token-init',
    mechTypes: ber.sequence(mechTypesEl, 'mechTypes').map((m) => ber.objectIdentifier(m, 'MechType')),
    ...(reqFlagsEl && { reqFlags: flagNames(ber.bitFlags(reqFlagsEl, 'reqFlags')) }),
    ...(mechTokenEl && { mechToken: innerToken(ber, mechTokenEl, 'mechToken', diagnostics) }),
    ...(hintNameEl && { hintName: ber.text(hintNameEl, 'hintName') }),
    hasMechListMic: f.has(4) || (third !== undefined && !third.constructed),
  };
}

/** NegTokenResp ::= SEQUENCE { negState [0], supportedMech [1], responseToken [2], mechListMIC [3] } */
function readNegTokenResp(ber: BerReader, seq: BerElement, diagnostics: GssDiagnostic[]): NegTokenResp {
  ber.expect(seq, 'universal', universalTags.sequence, 'negTokenResp', true);
  const f = ber.tagged(seq, 'negTokenResp');
  const negStateEl = ber.optional(f, 0, 'negState');
  const mechEl = ber.optional(f, 1, 'supportedMech');
  const tokenEl = ber.optional(f, 2, 'responseToken');
  const negState = negStateEl ? ber.integer(negStateEl, 'negState') : undefined;
  const negStateName = negState === undefined ? undefined : negStateNames[negState];
  return {
    kind: 'neg-token-resp',
    ...(negState !== undefined && { negState }),
    ...(negStateName && { negStateName }),
    ...(mechEl && { supportedMech: ber.objectIdentifier(mechEl, 'supportedMech') }),
    ...(tokenEl && { responseToken: innerToken(ber, tokenEl, 'responseToken', diagnostics) }),
    hasMechListMic: f.has(3),
  };
}

function innerToken(
  ber: BerReader,
  el: BerElement,
  field: string,
  diagnostics: GssDiagnostic[],
): GssMechToken {
  const octets = ber.octets(ber.expect(el, 'universal', universalTags.octetString, field), field);
  return readMechToken(octets, ber.reader.base + el.contentOffset, diagnostics);
}

/** A Kerberos or NTLMSSP mechanism token; a failure inside it is reported and leaves it 'unknown'. */
function readMechToken(bytes: Uint8Array, base: number, diagnostics: GssDiagnostic[]): GssMechToken {
  if (startsWithNtlmssp(bytes)) {
    const result = decodeNtlmMessage(bytes, base);
    diagnostics.push(...result.diagnostics);
    return result.value
      ? { kind: 'ntlmssp', message: result.value }
      : { kind: 'unknown', length: bytes.length };
  }
  const framed = bytes[0] === 0x60 ? krb5Framed(bytes) : undefined;
  if (framed && (framed.tokenId === 0x0100 || framed.tokenId === 0x0200 || framed.tokenId === 0x0300)) {
    const result = decodeKerberosMessage(bytes.subarray(framed.messageAt), base + framed.messageAt);
    diagnostics.push(...result.diagnostics);
    return result.value
      ? { kind: 'kerberos', tokenId: framed.tokenId, message: result.value }
      : { kind: 'unknown', length: bytes.length };
  }
  // Some servers send AP-REP or KRB-ERROR without the framing: [APPLICATION 14/15/30].
  if (bytes[0] === 0x6e || bytes[0] === 0x6f || bytes[0] === 0x7e) {
    const result = decodeKerberosMessage(bytes, base);
    diagnostics.push(...result.diagnostics);
    return result.value
      ? { kind: 'kerberos', message: result.value }
      : { kind: 'unknown', length: bytes.length };
  }
  const wrap = classifyWrapToken(bytes);
  if (wrap) return { kind: 'wrap', mechanism: wrap, length: bytes.length };
  return { kind: 'unknown', length: bytes.length };
}

/** The TOK_ID and message offset of a 0x60-framed Kerberos token (RFC 1964 §1.1), if it is one. */
function krb5Framed(bytes: Uint8Array): { tokenId: number; messageAt: number } | undefined {
  try {
    const ber = new BerReader(bytes);
    const root = ber.root('InitialContextToken');
    if (root.tagClass !== 'application' || root.tagNumber !== 0 || !root.constructed) return undefined;
    const mechEl = ber.element(root.contentOffset, root.end, 1, 'thisMech');
    if (mechEl.tagClass !== 'universal' || mechEl.tagNumber !== universalTags.objectIdentifier)
      return undefined;
    if (!KERBEROS_OIDS.includes(ber.objectIdentifier(mechEl, 'thisMech'))) return undefined;
    const tokenId = ber.reader.u16be(mechEl.end, 'TOK_ID');
    return { tokenId, messageAt: mechEl.end + 2 };
  } catch (error) {
    // Not a framed Kerberos token; the caller tries the other forms.
    if (error instanceof ParseError) return undefined;
    throw error;
  }
}

function flagNames(flags: number): string[] {
  return contextFlagNames.filter((_, bit) => ((flags >>> (31 - bit)) & 1) === 1);
}

function toDiagnostic(error: unknown, fallbackOffset: number): SpnegoDiagnostic {
  if (!(error instanceof ParseError)) throw error;
  let code: SpnegoDiagnosticCode;
  if (error.code === 'binary/out-of-bounds' || error.code === 'asn1/truncated') code = 'spnego/truncated';
  else if (error.code === 'asn1/too-deep') code = 'spnego/too-deep';
  else if ((spnegoDiagnosticCodes as readonly string[]).includes(error.code))
    code = error.code as SpnegoDiagnosticCode;
  else if (error.code.startsWith('asn1/')) code = 'spnego/bad-encoding';
  else code = 'spnego/bad-value';
  return { severity: 'error', code, message: error.message, offset: error.offset ?? fallbackOffset };
}
