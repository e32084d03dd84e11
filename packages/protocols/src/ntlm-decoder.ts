// NTLMSSP messages (MS-NLMP §2.2.1): NEGOTIATE, CHALLENGE and AUTHENTICATE with their flags,
// names, version, target information and, in NTLMv2 responses, the client's AV pairs. Responses,
// keys and the MIC are measured, never kept. `findNtlmssp` finds a message inside SMB, RPC or GSS data.
import { ByteReader, hexPreview, ParseError } from '@palisade/binary';

/** Every condition the NTLM decoder reports. */
export const ntlmDiagnosticCodes = [
  'ntlm/truncated',
  'ntlm/bad-signature',
  'ntlm/unsupported-message',
  'ntlm/bad-value',
] as const;

export type NtlmDiagnosticCode = (typeof ntlmDiagnosticCodes)[number];

/** A finding about one message; `error` means the message was not decoded. */
export interface NtlmDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: NtlmDiagnosticCode;
  readonly message: string;
  /** Byte offset in the data given to the decoder (plus its `base`). */
  readonly offset: number;
}

/** NegotiateFlags bits by value (MS-NLMP §2.2.2.5, letters A–W); J has no name in the spec. */
export const ntlmNegotiateFlagNames: ReadonlyArray<readonly [number, string]> = [
  [0x00000001, 'NTLMSSP_NEGOTIATE_UNICODE'],
  [0x00000002, 'NTLM_NEGOTIATE_OEM'],
  [0x00000004, 'NTLMSSP_REQUEST_TARGET'],
  [0x00000010, 'NTLMSSP_NEGOTIATE_SIGN'],
  [0x00000020, 'NTLMSSP_NEGOTIATE_SEAL'],
  [0x00000040, 'NTLMSSP_NEGOTIATE_DATAGRAM'],
  [0x00000080, 'NTLMSSP_NEGOTIATE_LM_KEY'],
  [0x00000200, 'NTLMSSP_NEGOTIATE_NTLM'],
  [0x00000800, 'NTLMSSP_ANONYMOUS'],
  [0x00001000, 'NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED'],
  [0x00002000, 'NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED'],
  [0x00008000, 'NTLMSSP_NEGOTIATE_ALWAYS_SIGN'],
  [0x00010000, 'NTLMSSP_TARGET_TYPE_DOMAIN'],
  [0x00020000, 'NTLMSSP_TARGET_TYPE_SERVER'],
  [0x00080000, 'NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY'],
  [0x00100000, 'NTLMSSP_NEGOTIATE_IDENTIFY'],
  [0x00400000, 'NTLMSSP_REQUEST_NON_NT_SESSION_KEY'],
  [0x00800000, 'NTLMSSP_NEGOTIATE_TARGET_INFO'],
  [0x02000000, 'NTLMSSP_NEGOTIATE_VERSION'],
  [0x20000000, 'NTLMSSP_NEGOTIATE_128'],
  [0x40000000, 'NTLMSSP_NEGOTIATE_KEY_EXCH'],
  [0x80000000, 'NTLMSSP_NEGOTIATE_56'],
];

const NEGOTIATE_UNICODE = 0x00000001;
const NEGOTIATE_SIGN = 0x00000010;
const NEGOTIATE_SEAL = 0x00000020;
const NEGOTIATE_ANONYMOUS = 0x00000800;
const NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x00080000;
const NEGOTIATE_VERSION = 0x02000000;

/** AV_PAIR identifiers (MS-NLMP §2.2.2.1). */
export const avIds = {
  MsvAvEOL: 0,
  MsvAvNbComputerName: 1,
  MsvAvNbDomainName: 2,
  MsvAvDnsComputerName: 3,
  MsvAvDnsDomainName: 4,
  MsvAvDnsTreeName: 5,
  MsvAvFlags: 6,
  MsvAvTimestamp: 7,
  MsvAvSingleHost: 8,
  MsvAvTargetName: 9,
  MsvAvChannelBindings: 10,
} as const;

/** MsvAvFlags bit: the AUTHENTICATE message carries a MIC (MS-NLMP §2.2.2.1). */
const AV_FLAG_MIC_PRESENT = 0x00000002;

/** The VERSION structure (MS-NLMP §2.2.2.10): the sender's Windows version. */
export interface NtlmVersion {
  readonly productMajorVersion: number;
  readonly productMinorVersion: number;
  readonly productBuild: number;
  readonly ntlmRevisionCurrent: number;
}

/** A list of AV_PAIRs (MS-NLMP §2.2.2.1), as a server's TargetInfo or inside an NTLMv2 response. */
export interface NtlmAvPairs {
  /** AvId of every pair before MsvAvEOL, in order. */
  readonly avIds: readonly number[];
  readonly nbComputerName?: string;
  readonly nbDomainName?: string;
  readonly dnsComputerName?: string;
  readonly dnsDomainName?: string;
  readonly dnsTreeName?: string;
  /** MsvAvFlags: 0x1 account constrained, 0x2 MIC present, 0x4 target SPN from an untrusted source. */
  readonly flags?: number;
  /** MsvAvTimestamp as ISO 8601 with 100 ns digits. */
  readonly timestamp?: string;
  /** MsvAvTargetName: the SPN the client meant, such as `cifs/dc1.corp.lab.test`. */
  readonly targetName?: string;
  /** MsvAvChannelBindings is present and not all zero: the client bound the TLS channel (EPA). */
  readonly hasChannelBindings?: boolean;
}

interface NtlmCommon {
  readonly negotiateFlags: number;
  /** Names of the flags set, from `ntlmNegotiateFlagNames`; unknown bits as hex. */
  readonly flagNames: readonly string[];
  readonly version?: NtlmVersion;
  /** Bytes from the signature to the end of the data given (the message may be shorter). */
  readonly size: number;
}

/** NEGOTIATE_MESSAGE (MS-NLMP §2.2.1.1); names are OEM text. */
export interface NtlmNegotiate extends NtlmCommon {
  readonly kind: 'negotiate';
  readonly messageType: 1;
  readonly domainName?: string;
  readonly workstation?: string;
}

/** CHALLENGE_MESSAGE (MS-NLMP §2.2.1.2). */
export interface NtlmChallenge extends NtlmCommon {
  readonly kind: 'challenge';
  readonly messageType: 2;
  readonly targetName?: string;
  /** The 8-byte nonce as hex; public on the wire, and needed to match responses to challenges. */
  readonly serverChallenge: string;
  readonly targetInfo?: NtlmAvPairs;
}

/** How the client answered the challenge, told by the response lengths (MS-NLMP §3.3). */
export type NtlmResponseKind = 'v1' | 'v2' | 'anonymous' | 'unknown';

/** AUTHENTICATE_MESSAGE (MS-NLMP §2.2.1.3). */
export interface NtlmAuthenticate extends NtlmCommon {
  readonly kind: 'authenticate';
  readonly messageType: 3;
  readonly domainName: string;
  readonly userName: string;
  readonly workstation: string;
  readonly lmChallengeResponseLength: number;
  readonly ntChallengeResponseLength: number;
  readonly encryptedRandomSessionKeyLength: number;
  /** 24-byte NT response: NTLMv1 (with extended session security when that flag is set); longer: NTLMv2. */
  readonly responseKind: NtlmResponseKind;
  readonly extendedSessionSecurity: boolean;
  /** NTLMSSP_NEGOTIATE_SIGN: messages after authentication are signed. */
  readonly sign: boolean;
  /** NTLMSSP_NEGOTIATE_SEAL: messages after authentication are encrypted. */
  readonly seal: boolean;
  readonly anonymous: boolean;
  /** The client says (MsvAvFlags 0x2) that the message carries a MIC. */
  readonly hasMic: boolean;
  /** NTLMv2_CLIENT_CHALLENGE (MS-NLMP §2.2.2.7): its timestamp and AV pairs. */
  readonly clientChallenge?: { readonly timestamp: string; readonly avPairs: NtlmAvPairs };
}

export type NtlmMessage = NtlmNegotiate | NtlmChallenge | NtlmAuthenticate;

export interface NtlmDecodeResult {
  readonly value?: NtlmMessage;
  readonly diagnostics: readonly NtlmDiagnostic[];
}

/** "NTLMSSP\0" (MS-NLMP §2.2.1). */
export const NTLMSSP_SIGNATURE: Uint8Array = Uint8Array.from([
  0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00,
]);

/** The names of the NegotiateFlags set in `flags`. */
export function ntlmFlagNames(flags: number): string[] {
  const out: string[] = [];
  let rest = flags >>> 0;
  for (const [bit, name] of ntlmNegotiateFlagNames) {
    if ((rest & bit) !== 0) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  for (let bit = 1; rest !== 0; bit = (bit << 1) >>> 0) {
    if ((rest & bit) !== 0) {
      out.push(`0x${bit.toString(16).padStart(8, '0')}`);
      rest = (rest & ~bit) >>> 0;
    }
  }
  return out;
}

/**
 * Decodes the NTLMSSP message at the start of `bytes`; payload fields may point anywhere up to
 * the end of `bytes`.
 * @example decodeNtlmMessage(token).value?.kind // 'authenticate'
 */
export function decodeNtlmMessage(bytes: Uint8Array, base = 0): NtlmDecodeResult {
  const diagnostics: NtlmDiagnostic[] = [];
  try {
    const value = readMessage(new ByteReader(bytes, base), diagnostics);
    return { value, diagnostics };
  } catch (error) {
    diagnostics.push(toDiagnostic(error, 'error', base));
    return { diagnostics };
  }
}

/** Whether `bytes` starts with "NTLMSSP\0". */
export function startsWithNtlmssp(bytes: Uint8Array): boolean {
  return indexOfNtlmssp(bytes.subarray(0, NTLMSSP_SIGNATURE.length)) === 0;
}

/** Where "NTLMSSP\0" starts in `bytes` at or after `from`, or -1. */
export function indexOfNtlmssp(bytes: Uint8Array, from = 0): number {
  const last = bytes.length - NTLMSSP_SIGNATURE.length;
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    if (bytes[i] !== 0x4e) continue;
    for (let j = 1; j < NTLMSSP_SIGNATURE.length; j++)
      if (bytes[i + j] !== NTLMSSP_SIGNATURE[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Finds the first NTLMSSP message in a larger blob (an SMB2 SESSION_SETUP, a DCE/RPC auth
 * trailer, a GSS/SPNEGO token, an LDAP bind) and decodes it; undefined when there is none.
 * Diagnostic offsets are positions in `bytes` plus `base`.
 * @example findNtlmssp(tcpPayload)?.value
 */
export function findNtlmssp(
  bytes: Uint8Array,
  base = 0,
): (NtlmDecodeResult & { readonly offset: number }) | undefined {
  const at = indexOfNtlmssp(bytes);
  if (at < 0) return undefined;
  return { ...decodeNtlmMessage(bytes.subarray(at), base + at), offset: at };
}

function readMessage(r: ByteReader, diagnostics: NtlmDiagnostic[]): NtlmMessage {
  r.ensure(0, 12, 'NTLMSSP header');
  if (!startsWithNtlmssp(r.bytes)) {
    throw new ParseError<NtlmDiagnosticCode>({
      code: 'ntlm/bad-signature',
      offset: r.base,
      field: 'Signature',
      expected: 'NTLMSSP\\0',
      found: hexPreview(r.bytes, 0, 8),
    });
  }
  const messageType = r.u32le(8, 'MessageType');
  switch (messageType) {
    case 1:
      return readNegotiate(r);
    case 2:
      return readChallenge(r, diagnostics);
    case 3:
      return readAuthenticate(r, diagnostics);
    default:
      throw new ParseError<NtlmDiagnosticCode>({
        code: 'ntlm/unsupported-message',
        offset: r.base + 8,
        field: 'MessageType',
        expected: 'NEGOTIATE (1), CHALLENGE (2) or AUTHENTICATE (3)',
        found: `0x${messageType.toString(16)}`,
      });
  }
}

function common(r: ByteReader, flagsAt: number, versionAt: number): NtlmCommon {
  const negotiateFlags = r.u32le(flagsAt, 'NegotiateFlags');
  // Version is meaningful only with NTLMSSP_NEGOTIATE_VERSION (without it the 8 bytes may be
  // payload), and a short message from an old client may set the flag without sending it.
  const version =
    (negotiateFlags & NEGOTIATE_VERSION) !== 0 && r.length >= versionAt + 8
      ? readVersion(r, versionAt)
      : undefined;
  return {
    negotiateFlags,
    flagNames: ntlmFlagNames(negotiateFlags),
    ...(version && { version }),
    size: r.length,
  };
}

function readNegotiate(r: ByteReader): NtlmNegotiate {
  // Signature, MessageType, NegotiateFlags @12, DomainNameFields @16, WorkstationFields @24, Version @32
  const base = common(r, 12, 32);
  const domainName = optionalText(r, 16, false, 'DomainName');
  const workstation = optionalText(r, 24, false, 'Workstation');
  return {
    kind: 'negotiate',
    messageType: 1,
    ...base,
    ...(domainName !== undefined && { domainName }),
    ...(workstation !== undefined && { workstation }),
  };
}

function readChallenge(r: ByteReader, diagnostics: NtlmDiagnostic[]): NtlmChallenge {
  // TargetNameFields @12, NegotiateFlags @20, ServerChallenge @24, Reserved @32,
  // TargetInfoFields @40, Version @48
  const base = common(r, 20, 48);
  const unicode = (base.negotiateFlags & NEGOTIATE_UNICODE) !== 0;
  const targetName = optionalText(r, 12, unicode, 'TargetName');
  const targetInfoBytes = r.length >= 48 ? securityBuffer(r, 40, 'TargetInfo') : undefined;
  const targetInfo =
    targetInfoBytes && targetInfoBytes.bytes.length > 0
      ? soft(diagnostics, () =>
          readAvPairs(new ByteReader(targetInfoBytes.bytes, r.base + targetInfoBytes.offset)),
        )
      : undefined;
  return {
    kind: 'challenge',
    messageType: 2,
    ...base,
    ...(targetName !== undefined && { targetName }),
    serverChallenge: hex(r.slice(24, 8, 'ServerChallenge')),
    ...(targetInfo && { targetInfo }),
  };
}

function readAuthenticate(r: ByteReader, diagnostics: NtlmDiagnostic[]): NtlmAuthenticate {
  // LmChallengeResponseFields @12, NtChallengeResponseFields @20, DomainNameFields @28,
  // UserNameFields @36, WorkstationFields @44, EncryptedRandomSessionKeyFields @52,
  // NegotiateFlags @60, Version @64, MIC @72
  const base = common(r, 60, 64);
  const flags = base.negotiateFlags;
  const unicode = (flags & NEGOTIATE_UNICODE) !== 0;
  const lm = securityBuffer(r, 12, 'LmChallengeResponse');
  const nt = securityBuffer(r, 20, 'NtChallengeResponse');
  const sessionKey = securityBuffer(r, 52, 'EncryptedRandomSessionKey');
  const ntLength = nt.bytes.length;
  const lmLength = lm.bytes.length;
  // MS-NLMP §3.2.5.1.2: anonymous is an empty NT response and an empty or one-byte LM response.
  const responseKind: NtlmResponseKind =
    ntLength === 0 && lmLength <= 1 ? 'anonymous' : ntLength === 24 ? 'v1' : ntLength > 24 ? 'v2' : 'unknown';
  // NTLMv2_RESPONSE: 16-byte NTProofStr, then NTLMv2_CLIENT_CHALLENGE with AvPairs at +28.
  const clientChallenge =
    responseKind === 'v2' && ntLength >= 44
      ? soft(diagnostics, () => {
          const c = new ByteReader(nt.bytes, r.base + nt.offset);
          return {
            timestamp: c.filetimeIso(24, 'NTLMv2 client challenge TimeStamp'),
            avPairs: readAvPairs(new ByteReader(nt.bytes.subarray(44), r.base + nt.offset + 44)),
          };
        })
      : undefined;
  return {
    kind: 'authenticate',
    messageType: 3,
    ...base,
    domainName: text(r, 28, unicode, 'DomainName'),
    userName: text(r, 36, unicode, 'UserName'),
    workstation: text(r, 44, unicode, 'Workstation'),
    lmChallengeResponseLength: lmLength,
    ntChallengeResponseLength: ntLength,
    encryptedRandomSessionKeyLength: sessionKey.bytes.length,
    responseKind,
    extendedSessionSecurity: (flags & NEGOTIATE_EXTENDED_SESSIONSECURITY) !== 0,
    sign: (flags & NEGOTIATE_SIGN) !== 0,
    seal: (flags & NEGOTIATE_SEAL) !== 0,
    anonymous: (flags & NEGOTIATE_ANONYMOUS) !== 0 || responseKind === 'anonymous',
    hasMic: ((clientChallenge?.avPairs.flags ?? 0) & AV_FLAG_MIC_PRESENT) !== 0,
    ...(clientChallenge && { clientChallenge }),
  };
}

/** A Len/MaxLen/BufferOffset triple (MS-NLMP §2.2.1) and the bytes it points at. */
function securityBuffer(r: ByteReader, at: number, field: string): { bytes: Uint8Array; offset: number } {
  const length = r.u16le(at, `${field}Len`);
  const offset = r.u32le(at + 4, `${field}BufferOffset`);
  // An empty field's offset is not checked: some clients leave it pointing anywhere.
  if (length === 0) return { bytes: new Uint8Array(0), offset };
  return { bytes: r.slice(offset, length, field), offset };
}

function text(r: ByteReader, at: number, unicode: boolean, field: string): string {
  const { bytes } = securityBuffer(r, at, field);
  // An odd Unicode length is malformed; the whole code units are still worth showing.
  return unicode
    ? new ByteReader(bytes).utf16le(0, bytes.length >> 1, field)
    : new ByteReader(bytes).latin1(0, bytes.length, field);
}

/** A name that NEGOTIATE and CHALLENGE may leave out: absent when its length is 0. */
function optionalText(r: ByteReader, at: number, unicode: boolean, field: string): string | undefined {
  if (r.u16le(at, `${field}Len`) === 0) return undefined;
  return text(r, at, unicode, field);
}

function readVersion(r: ByteReader, at: number): NtlmVersion {
  return {
    productMajorVersion: r.u8(at, 'ProductMajorVersion'),
    productMinorVersion: r.u8(at + 1, 'ProductMinorVersion'),
    productBuild: r.u16le(at + 2, 'ProductBuild'),
    ntlmRevisionCurrent: r.u8(at + 7, 'NTLMRevisionCurrent'),
  };
}

/** AV_PAIRs up to MsvAvEOL or the end of the data; each pair is at least 4 bytes, so this ends. */
function readAvPairs(r: ByteReader): NtlmAvPairs {
  const ids: number[] = [];
  const out: { -readonly [K in keyof NtlmAvPairs]: NtlmAvPairs[K] } = { avIds: ids };
  for (let p = 0; p + 4 <= r.length; ) {
    const id = r.u16le(p, 'AvId');
    const length = r.u16le(p + 2, 'AvLen');
    if (id === avIds.MsvAvEOL) break;
    const at = p + 4;
    r.ensure(at, length, `AV pair ${id} value`);
    ids.push(id);
    const name = (field: string) => r.utf16le(at, length >> 1, field);
    switch (id) {
      case avIds.MsvAvNbComputerName:
        out.nbComputerName = name('MsvAvNbComputerName');
        break;
      case avIds.MsvAvNbDomainName:
        out.nbDomainName = name('MsvAvNbDomainName');
        break;
      case avIds.MsvAvDnsComputerName:
        out.dnsComputerName = name('MsvAvDnsComputerName');
        break;
      case avIds.MsvAvDnsDomainName:
        out.dnsDomainName = name('MsvAvDnsDomainName');
        break;
      case avIds.MsvAvDnsTreeName:
        out.dnsTreeName = name('MsvAvDnsTreeName');
        break;
      case avIds.MsvAvFlags:
        out.flags = r.u32le(at, 'MsvAvFlags');
        break;
      case avIds.MsvAvTimestamp:
        out.timestamp = r.filetimeIso(at, 'MsvAvTimestamp');
        break;
      case avIds.MsvAvTargetName:
        out.targetName = name('MsvAvTargetName');
        break;
      case avIds.MsvAvChannelBindings:
        out.hasChannelBindings = r.slice(at, length, 'MsvAvChannelBindings').some((b) => b !== 0);
        break;
      default:
        break;
    }
    p = at + length;
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Runs a read whose failure costs only that part: a warning instead of the whole message. */
function soft<T>(diagnostics: NtlmDiagnostic[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    diagnostics.push(toDiagnostic(error, 'warning', 0));
    return undefined;
  }
}

function toDiagnostic(
  error: unknown,
  severity: NtlmDiagnostic['severity'],
  fallbackOffset: number,
): NtlmDiagnostic {
  if (!(error instanceof ParseError)) throw error;
  const code: NtlmDiagnosticCode =
    error.code === 'binary/out-of-bounds'
      ? 'ntlm/truncated'
      : (ntlmDiagnosticCodes as readonly string[]).includes(error.code)
        ? (error.code as NtlmDiagnosticCode)
        : 'ntlm/bad-value';
  return { severity, code, message: error.message, offset: error.offset ?? fallbackOffset };
}
