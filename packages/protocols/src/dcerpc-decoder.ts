// Connection-oriented DCE/RPC PDUs (C706 §12.6, MS-RPCE §2.2.2): the common header, bind and
// alter_context negotiation, requests, responses, faults and the auth verifier (sec_trailer)
// whose token the NTLMSSP, SPNEGO and Kerberos decoders read. One PDU in, one PDU out; the
// stream and call reassembly are in dcerpc-stream.ts.
import { ByteReader, ParseError } from '@palisade/binary';
import { findDcerpcInterface, transferSyntaxName } from './dcerpc-interfaces.ts';

/** Every condition the DCE/RPC decoders report. */
export const dcerpcDiagnosticCodes = [
  'dcerpc/truncated',
  'dcerpc/bad-version',
  'dcerpc/bad-type',
  'dcerpc/bad-length',
  'dcerpc/bad-value',
  'dcerpc/lost-sync',
  'dcerpc/orphan-fragment',
  'dcerpc/too-large',
  'dcerpc/too-many-calls',
] as const;

export type DcerpcDiagnosticCode = (typeof dcerpcDiagnosticCodes)[number];

/** A finding about one PDU or one call. */
export interface DcerpcDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: DcerpcDiagnosticCode;
  readonly message: string;
  /** Byte offset in the PDU, or in the stream for the stream helpers. */
  readonly offset: number;
}

/** PTYPE values of connection-oriented PDUs (C706 §12.6.4; auth3 MS-RPCE §2.2.2.10; rts MS-RPCH). */
export const dcerpcPacketTypes: Readonly<Record<number, DcerpcPduKind>> = {
  0: 'request',
  2: 'response',
  3: 'fault',
  11: 'bind',
  12: 'bindAck',
  13: 'bindNak',
  14: 'alterContext',
  15: 'alterContextResp',
  16: 'auth3',
  17: 'shutdown',
  18: 'coCancel',
  19: 'orphaned',
  20: 'rts',
};

export type DcerpcPduKind =
  | 'request'
  | 'response'
  | 'fault'
  | 'bind'
  | 'bindAck'
  | 'bindNak'
  | 'alterContext'
  | 'alterContextResp'
  | 'auth3'
  | 'shutdown'
  | 'coCancel'
  | 'orphaned'
  | 'rts';

/** pfc_flags bits (C706 §12.6.3.1; 0x04 reused by MS-RPCE §2.2.2.3 as PFC_SUPPORT_HEADER_SIGN). */
export const PFC_FIRST_FRAG = 0x01;
export const PFC_LAST_FRAG = 0x02;
export const PFC_OBJECT_UUID = 0x80;

/** The 16-byte common header (C706 §12.6.3.1). */
export interface DcerpcHeader {
  readonly rpcVers: number;
  readonly rpcVersMinor: number;
  readonly ptype: number;
  readonly pfcFlags: number;
  readonly firstFrag: boolean;
  readonly lastFrag: boolean;
  /** From the data representation label: integers are little-endian (almost always). */
  readonly littleEndian: boolean;
  readonly fragLength: number;
  readonly authLength: number;
  readonly callId: number;
}

/** The sec_trailer and its token (MS-RPCE §2.2.2.11; C706 §13.2.6.1 auth_verifier_co_t). */
export interface DcerpcAuthVerifier {
  readonly authType: number;
  /** `ntlmssp`, `spnego`, `kerberos`, `netlogon`, `schannel`, … (MS-RPCE §2.2.1.1.7). */
  readonly authTypeName: string;
  readonly authLevel: number;
  /** `connect`, `call`, `packet`, `integrity`, `privacy` (MS-RPCE §2.2.1.1.8). */
  readonly authLevelName: string;
  readonly authPadLength: number;
  readonly authContextId: number;
  /** The security provider's token: NTLMSSP message, SPNEGO or Kerberos blob, or signature. */
  readonly authValue: Uint8Array;
}

/** An interface or transfer syntax identifier (C706 §12.6.3.1 p_syntax_id_t). */
export interface DcerpcSyntaxId {
  readonly uuid: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Interface name such as `SAMR`, or transfer syntax name such as `NDR64`, when known. */
  readonly name?: string;
}

/** One proposed presentation context of a bind or alter_context (C706 p_cont_elem_t). */
export interface DcerpcPresentationContext {
  readonly pContId: number;
  readonly abstractSyntax: DcerpcSyntaxId;
  readonly transferSyntaxes: readonly DcerpcSyntaxId[];
}

/** The answer to one proposed context (C706 p_result_t; negotiate_ack from MS-RPCE §2.2.2.4). */
export interface DcerpcContextResult {
  readonly result: number;
  /** `acceptance`, `userRejection`, `providerRejection` or `negotiateAck`. */
  readonly resultName: string;
  readonly reason: number;
  readonly transferSyntax: DcerpcSyntaxId;
}

interface PduBase {
  readonly header: DcerpcHeader;
  readonly auth?: DcerpcAuthVerifier;
}

/** request (C706 §12.6.4.9). */
export interface DcerpcRequestPdu extends PduBase {
  readonly kind: 'request';
  readonly allocHint: number;
  readonly pContId: number;
  readonly opnum: number;
  /** The object UUID, present when PFC_OBJECT_UUID is set. */
  readonly object?: string;
  readonly stub: Uint8Array;
  /** Sealed by the security provider (auth level privacy): the stub cannot be read. */
  readonly stubEncrypted: boolean;
}

/** response (C706 §12.6.4.10). */
export interface DcerpcResponsePdu extends PduBase {
  readonly kind: 'response';
  readonly allocHint: number;
  readonly pContId: number;
  readonly cancelCount: number;
  readonly stub: Uint8Array;
  readonly stubEncrypted: boolean;
}

/** fault (C706 §12.6.4.7). */
export interface DcerpcFaultPdu extends PduBase {
  readonly kind: 'fault';
  readonly allocHint: number;
  readonly pContId: number;
  readonly cancelCount: number;
  readonly status: number;
  readonly statusName?: string;
  readonly stub: Uint8Array;
}

/** bind and alter_context (C706 §12.6.4.3, §12.6.4.1). */
export interface DcerpcBindPdu extends PduBase {
  readonly kind: 'bind' | 'alterContext';
  readonly maxXmitFrag: number;
  readonly maxRecvFrag: number;
  readonly assocGroupId: number;
  readonly contexts: readonly DcerpcPresentationContext[];
}

/** bind_ack and alter_context_resp (C706 §12.6.4.4, §12.6.4.2). */
export interface DcerpcBindAckPdu extends PduBase {
  readonly kind: 'bindAck' | 'alterContextResp';
  readonly maxXmitFrag: number;
  readonly maxRecvFrag: number;
  readonly assocGroupId: number;
  /** The server's port spec (sec_addr), such as `\PIPE\lsass` or `49153`. */
  readonly secAddr: string;
  readonly results: readonly DcerpcContextResult[];
}

/** bind_nak (C706 §12.6.4.5). */
export interface DcerpcBindNakPdu extends PduBase {
  readonly kind: 'bindNak';
  readonly providerRejectReason: number;
}

/** auth3 and the PDUs whose body is not decoded (shutdown, co_cancel, orphaned, rts). */
export interface DcerpcOtherPdu extends PduBase {
  readonly kind: 'auth3' | 'shutdown' | 'coCancel' | 'orphaned' | 'rts';
}

export type DcerpcPdu =
  | DcerpcRequestPdu
  | DcerpcResponsePdu
  | DcerpcFaultPdu
  | DcerpcBindPdu
  | DcerpcBindAckPdu
  | DcerpcBindNakPdu
  | DcerpcOtherPdu;

export interface DcerpcDecodeResult {
  readonly value?: DcerpcPdu;
  readonly diagnostics: readonly DcerpcDiagnostic[];
}

export const DCERPC_HEADER_SIZE = 16;
const SEC_TRAILER_SIZE = 8;

// MS-RPCE §2.2.1.1.7 (RPC_C_AUTHN_*) and §2.2.1.1.8 (RPC_C_AUTHN_LEVEL_*).
const authTypeNames: Readonly<Record<number, string>> = {
  0: 'none',
  9: 'spnego',
  10: 'ntlmssp',
  14: 'schannel',
  16: 'kerberos',
  68: 'netlogon',
  255: 'default',
};
const authLevelNames: Readonly<Record<number, string>> = {
  0: 'default',
  1: 'none',
  2: 'connect',
  3: 'call',
  4: 'packet',
  5: 'integrity',
  6: 'privacy',
};
const AUTH_LEVEL_PRIVACY = 6;

const resultNames: Readonly<Record<number, string>> = {
  0: 'acceptance',
  1: 'userRejection',
  2: 'providerRejection',
  3: 'negotiateAck',
};

// C706 Appendix E and MS-RPCE §3.3.1.4.1: the fault statuses seen in practice.
const faultStatusNames: Readonly<Record<number, string>> = {
  5: 'nca_s_fault_access_denied',
  1752: 'nca_s_fault_cant_perform',
  1783: 'nca_s_fault_ndr',
  1825: 'nca_s_fault_sec_pkg_error',
  469762049: 'nca_s_fault_int_div_by_zero',
  469762050: 'nca_s_fault_addr_error',
  469762061: 'nca_s_fault_cancel',
  469762074: 'nca_s_fault_context_mismatch',
  469762075: 'nca_s_fault_remote_no_memory',
  469762076: 'nca_s_invalid_pres_context_id',
  469762077: 'nca_s_unsupported_authn_level',
  469762079: 'nca_s_invalid_checksum',
  469762080: 'nca_s_invalid_crc',
  469762081: 'nca_s_fault_user_defined',
  469827586: 'nca_s_op_rng_error',
  469827587: 'nca_s_unk_if',
  469827595: 'nca_s_proto_error',
  469827603: 'nca_s_out_args_too_big',
  469827604: 'nca_s_server_too_busy',
  469827607: 'nca_s_unsupported_type',
};

/** The name of a fault status, when it is one of the common ones. */
export function dcerpcFaultStatusName(status: number): string | undefined {
  return faultStatusNames[status];
}

/** Whether 16 bytes look like the start of a connection-oriented PDU (version 5.0 or 5.1). */
export function looksLikeDcerpcHeader(bytes: Uint8Array, at = 0): boolean {
  if (bytes.length - at < DCERPC_HEADER_SIZE) return false;
  const ptype = bytes[at + 2] ?? 0xff;
  const drep = bytes[at + 4] ?? 0xff;
  const le = (drep & 0xf0) === 0x10;
  const fragLength = le
    ? (bytes[at + 8] ?? 0) | ((bytes[at + 9] ?? 0) << 8)
    : ((bytes[at + 8] ?? 0) << 8) | (bytes[at + 9] ?? 0);
  return (
    bytes[at] === 5 &&
    (bytes[at + 1] === 0 || bytes[at + 1] === 1) &&
    dcerpcPacketTypes[ptype] !== undefined &&
    (drep & 0xe0) === 0 &&
    fragLength >= DCERPC_HEADER_SIZE
  );
}

/** Reads the common header; throws ParseError when it cannot start a connection-oriented PDU. */
export function readDcerpcHeader(r: ByteReader, at = 0): DcerpcHeader {
  r.ensure(at, DCERPC_HEADER_SIZE, 'DCE/RPC header');
  const rpcVers = r.u8(at, 'rpc_vers');
  const rpcVersMinor = r.u8(at + 1, 'rpc_vers_minor');
  if (rpcVers !== 5 || rpcVersMinor > 1) {
    throw new ParseError<DcerpcDiagnosticCode>({
      code: 'dcerpc/bad-version',
      offset: r.base + at,
      field: 'rpc_vers',
      expected: '5.0 or 5.1',
      found: `${rpcVers}.${rpcVersMinor}`,
    });
  }
  const ptype = r.u8(at + 2, 'PTYPE');
  if (dcerpcPacketTypes[ptype] === undefined) {
    throw new ParseError<DcerpcDiagnosticCode>({
      code: 'dcerpc/bad-type',
      offset: r.base + at + 2,
      field: 'PTYPE',
      expected: 'a connection-oriented PDU type',
      found: `${ptype}`,
    });
  }
  const pfcFlags = r.u8(at + 3, 'pfc_flags');
  // C706 §14.1: the high nibble of the first drep byte is the integer representation.
  const littleEndian = (r.u8(at + 4, 'drep') & 0xf0) === 0x10;
  const u16 = littleEndian ? r.u16le.bind(r) : r.u16be.bind(r);
  const u32 = littleEndian ? r.u32le.bind(r) : r.u32be.bind(r);
  const fragLength = u16(at + 8, 'frag_length');
  const authLength = u16(at + 10, 'auth_length');
  if (fragLength < DCERPC_HEADER_SIZE) {
    throw new ParseError<DcerpcDiagnosticCode>({
      code: 'dcerpc/bad-length',
      offset: r.base + at + 8,
      field: 'frag_length',
      expected: `at least ${DCERPC_HEADER_SIZE}`,
      found: `${fragLength}`,
    });
  }
  return {
    rpcVers,
    rpcVersMinor,
    ptype,
    pfcFlags,
    firstFrag: (pfcFlags & PFC_FIRST_FRAG) !== 0,
    lastFrag: (pfcFlags & PFC_LAST_FRAG) !== 0,
    littleEndian,
    fragLength,
    authLength,
    callId: u32(at + 12, 'call_id'),
  };
}

/**
 * Decodes one PDU from the start of `bytes` (which may hold more after it).
 * @example decodeDcerpcPdu(payload).value?.kind === 'bind'
 */
export function decodeDcerpcPdu(bytes: Uint8Array, base = 0): DcerpcDecodeResult {
  try {
    return { value: readPdu(new ByteReader(bytes, base)), diagnostics: [] };
  } catch (error) {
    return { diagnostics: [dcerpcDiagnostic(error)] };
  }
}

/** Turns a ParseError into a DCE/RPC diagnostic; anything else is a bug and is rethrown. */
export function dcerpcDiagnostic(error: unknown): DcerpcDiagnostic {
  if (!(error instanceof ParseError)) throw error;
  const code: DcerpcDiagnosticCode =
    error.code === 'binary/out-of-bounds'
      ? 'dcerpc/truncated'
      : (dcerpcDiagnosticCodes as readonly string[]).includes(error.code)
        ? (error.code as DcerpcDiagnosticCode)
        : 'dcerpc/bad-value';
  return { severity: 'error', code, message: error.message, offset: error.offset };
}

function readPdu(whole: ByteReader): DcerpcPdu {
  const header = readDcerpcHeader(whole);
  whole.ensure(0, header.fragLength, 'DCE/RPC PDU (frag_length)');
  // Everything below reads inside this one fragment.
  const r = new ByteReader(whole.bytes.subarray(0, header.fragLength), whole.base);
  const le = header.littleEndian;
  const u16 = (at: number, field: string): number => (le ? r.u16le(at, field) : r.u16be(at, field));
  const u32 = (at: number, field: string): number => (le ? r.u32le(at, field) : r.u32be(at, field));
  const auth = readAuthVerifier(r, header);
  // The body ends where the auth padding and sec_trailer begin.
  const bodyEnd = auth
    ? header.fragLength - header.authLength - SEC_TRAILER_SIZE - auth.authPadLength
    : header.fragLength;
  const kind = dcerpcPacketTypes[header.ptype] ?? 'rts';
  const stubFrom = (start: number): Uint8Array => {
    if (bodyEnd < start) {
      throw new ParseError<DcerpcDiagnosticCode>({
        code: 'dcerpc/bad-length',
        offset: r.base + start,
        field: 'stub data',
        expected: `a body of at least ${start - DCERPC_HEADER_SIZE} bytes`,
        found: `${bodyEnd - DCERPC_HEADER_SIZE} before the auth trailer`,
      });
    }
    return r.slice(start, bodyEnd - start, 'stub data');
  };
  const sealed = auth !== undefined && auth.authLevel === AUTH_LEVEL_PRIVACY;
  const withAuth = auth ? { auth } : {};
  switch (kind) {
    case 'request': {
      const hasObject = (header.pfcFlags & PFC_OBJECT_UUID) !== 0;
      const object = hasObject ? { object: readUuid(r, 24, le, 'object') } : {};
      return {
        kind,
        header,
        ...withAuth,
        allocHint: u32(16, 'alloc_hint'),
        pContId: u16(20, 'p_cont_id'),
        opnum: u16(22, 'opnum'),
        ...object,
        stub: stubFrom(hasObject ? 40 : 24),
        stubEncrypted: sealed,
      };
    }
    case 'response':
      return {
        kind,
        header,
        ...withAuth,
        allocHint: u32(16, 'alloc_hint'),
        pContId: u16(20, 'p_cont_id'),
        cancelCount: r.u8(22, 'cancel_count'),
        stub: stubFrom(24),
        stubEncrypted: sealed,
      };
    case 'fault': {
      const status = u32(24, 'status');
      const statusName = faultStatusNames[status];
      return {
        kind,
        header,
        ...withAuth,
        allocHint: u32(16, 'alloc_hint'),
        pContId: u16(20, 'p_cont_id'),
        cancelCount: r.u8(22, 'cancel_count'),
        status,
        ...(statusName ? { statusName } : {}),
        stub: stubFrom(32),
      };
    }
    case 'bind':
    case 'alterContext': {
      const count = r.u8(24, 'n_context_elem');
      const contexts: DcerpcPresentationContext[] = [];
      let at = 28;
      for (let i = 0; i < count; i++) {
        const transferCount = r.u8(at + 2, `context ${i} n_transfer_syn`);
        const abstractSyntax = readSyntaxId(r, at + 4, le, `context ${i} abstract_syntax`, 'interface');
        const transferSyntaxes: DcerpcSyntaxId[] = [];
        for (let j = 0; j < transferCount; j++) {
          transferSyntaxes.push(
            readSyntaxId(r, at + 24 + j * 20, le, `context ${i} transfer_syntax ${j}`, 'transfer'),
          );
        }
        contexts.push({ pContId: u16(at, `context ${i} p_cont_id`), abstractSyntax, transferSyntaxes });
        at += 24 + transferCount * 20;
      }
      return {
        kind,
        header,
        ...withAuth,
        maxXmitFrag: u16(16, 'max_xmit_frag'),
        maxRecvFrag: u16(18, 'max_recv_frag'),
        assocGroupId: u32(20, 'assoc_group_id'),
        contexts,
      };
    }
    case 'bindAck':
    case 'alterContextResp': {
      const addrLength = u16(24, 'sec_addr length');
      // The port spec ends in a NUL; the result list starts 4-byte aligned after it.
      const secAddr = r.latin1(26, addrLength, 'sec_addr').replace(/\0+$/, '');
      let at = (26 + addrLength + 3) & ~3;
      const count = r.u8(at, 'n_results');
      at += 4;
      const results: DcerpcContextResult[] = [];
      for (let i = 0; i < count; i++, at += 24) {
        const result = u16(at, `result ${i}`);
        results.push({
          result,
          resultName: resultNames[result] ?? `result${result}`,
          reason: u16(at + 2, `result ${i} reason`),
          transferSyntax: readSyntaxId(r, at + 4, le, `result ${i} transfer_syntax`, 'transfer'),
        });
      }
      return {
        kind,
        header,
        ...withAuth,
        maxXmitFrag: u16(16, 'max_xmit_frag'),
        maxRecvFrag: u16(18, 'max_recv_frag'),
        assocGroupId: u32(20, 'assoc_group_id'),
        secAddr,
        results,
      };
    }
    case 'bindNak':
      return { kind, header, ...withAuth, providerRejectReason: u16(16, 'provider_reject_reason') };
    default:
      return { kind, header, ...withAuth };
  }
}

function readAuthVerifier(r: ByteReader, header: DcerpcHeader): DcerpcAuthVerifier | undefined {
  if (header.authLength === 0) return undefined;
  // MS-RPCE §2.2.2.11: the sec_trailer starts at frag_length - auth_length - 8.
  const at = header.fragLength - header.authLength - SEC_TRAILER_SIZE;
  if (at < DCERPC_HEADER_SIZE) {
    throw new ParseError<DcerpcDiagnosticCode>({
      code: 'dcerpc/bad-length',
      offset: r.base + 10,
      field: 'auth_length',
      expected: `at most ${header.fragLength - DCERPC_HEADER_SIZE - SEC_TRAILER_SIZE}`,
      found: `${header.authLength}`,
    });
  }
  const authType = r.u8(at, 'auth_type');
  const authLevel = r.u8(at + 1, 'auth_level');
  const authPadLength = r.u8(at + 2, 'auth_pad_length');
  if (at - authPadLength < DCERPC_HEADER_SIZE) {
    throw new ParseError<DcerpcDiagnosticCode>({
      code: 'dcerpc/bad-length',
      offset: r.base + at + 2,
      field: 'auth_pad_length',
      expected: `at most ${at - DCERPC_HEADER_SIZE}`,
      found: `${authPadLength}`,
    });
  }
  const authContextId = header.littleEndian
    ? r.u32le(at + 4, 'auth_context_id')
    : r.u32be(at + 4, 'auth_context_id');
  return {
    authType,
    authTypeName: authTypeNames[authType] ?? `authType${authType}`,
    authLevel,
    authLevelName: authLevelNames[authLevel] ?? `authLevel${authLevel}`,
    authPadLength,
    authContextId,
    authValue: r.slice(at + SEC_TRAILER_SIZE, header.authLength, 'auth_value'),
  };
}

function readSyntaxId(
  r: ByteReader,
  at: number,
  le: boolean,
  field: string,
  role: 'interface' | 'transfer',
): DcerpcSyntaxId {
  const uuid = readUuid(r, at, le, field);
  const versionMajor = le ? r.u16le(at + 16, `${field} version`) : r.u16be(at + 16, `${field} version`);
  const versionMinor = le ? r.u16le(at + 18, `${field} version`) : r.u16be(at + 18, `${field} version`);
  const name = role === 'interface' ? findDcerpcInterface(uuid)?.name : transferSyntaxName(uuid);
  return name ? { uuid, versionMajor, versionMinor, name } : { uuid, versionMajor, versionMinor };
}

const byteHex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUID in its string form, lower case (C706 Appendix A); the first three fields follow drep. */
export function readUuid(r: ByteReader, at: number, littleEndian: boolean, field: string): string {
  const b = r.slice(at, 16, field);
  const order = littleEndian
    ? [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15]
    : [0, 1, 2, 3, -1, 4, 5, -1, 6, 7, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15];
  let s = '';
  for (const i of order) s += i < 0 ? '-' : byteHex[b[i] ?? 0];
  return s;
}
