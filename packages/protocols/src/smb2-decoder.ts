// SMB 2 and 3 messages (MS-SMB2 §2.2): the header, compounded commands, and the bodies that
// detections read — NEGOTIATE, SESSION_SETUP, TREE_CONNECT, CREATE, CLOSE, READ, WRITE and
// IOCTL. Encrypted (TRANSFORM_HEADER) and compressed messages are reported without guessing at
// their content; an SMB1 message is noted with its command and, for NEGOTIATE, its dialects.
import { ByteReader, hexPreview, ParseError } from '@palisade/binary';
import { readUuid } from './dcerpc-decoder.ts';

/** Every condition the SMB2 decoders report. */
export const smb2DiagnosticCodes = [
  'smb2/truncated',
  'smb2/bad-header',
  'smb2/bad-value',
  'smb2/bad-offset',
  'smb2/lost-sync',
  'smb2/too-many-commands',
  'smb2/unknown-file',
] as const;

export type Smb2DiagnosticCode = (typeof smb2DiagnosticCodes)[number];

/** A finding about one message or one connection. */
export interface Smb2Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: Smb2DiagnosticCode;
  readonly message: string;
  /** Byte offset in the message, or in the direction's stream for `Smb2Connection`. */
  readonly offset: number;
}

/** Command codes (MS-SMB2 §2.2.1.2). */
export const smb2Commands = [
  'NEGOTIATE',
  'SESSION_SETUP',
  'LOGOFF',
  'TREE_CONNECT',
  'TREE_DISCONNECT',
  'CREATE',
  'CLOSE',
  'FLUSH',
  'READ',
  'WRITE',
  'LOCK',
  'IOCTL',
  'CANCEL',
  'ECHO',
  'QUERY_DIRECTORY',
  'CHANGE_NOTIFY',
  'QUERY_INFO',
  'SET_INFO',
  'OPLOCK_BREAK',
  'SERVER_TO_CLIENT_NOTIFICATION',
] as const;

export const SMB2_NEGOTIATE = 0x0;
export const SMB2_SESSION_SETUP = 0x1;
export const SMB2_TREE_CONNECT = 0x3;
export const SMB2_CREATE = 0x5;
export const SMB2_CLOSE = 0x6;
export const SMB2_READ = 0x8;
export const SMB2_WRITE = 0x9;
export const SMB2_IOCTL = 0xb;
export const SMB2_CANCEL = 0xc;

/** Header flags (MS-SMB2 §2.2.1.2). */
export const SMB2_FLAGS_SERVER_TO_REDIR = 0x1;
export const SMB2_FLAGS_ASYNC_COMMAND = 0x2;
export const SMB2_FLAGS_RELATED_OPERATIONS = 0x4;
export const SMB2_FLAGS_SIGNED = 0x8;

/** FSCTL_PIPE_TRANSCEIVE (MS-FSCC §2.3.49): a write and a read on a named pipe in one IOCTL. */
export const FSCTL_PIPE_TRANSCEIVE = 0x0011c017;

export const STATUS_SUCCESS = 0;
export const STATUS_PENDING = 0x103;
export const STATUS_BUFFER_OVERFLOW = 0x80000005;
export const STATUS_MORE_PROCESSING_REQUIRED = 0xc0000016;
export const STATUS_LOGON_FAILURE = 0xc000006d;

// MS-ERREF §2.3.1: the statuses SMB sessions commonly end in.
const statusNames: Readonly<Record<number, string>> = {
  0: 'STATUS_SUCCESS',
  259: 'STATUS_PENDING',
  2147483653: 'STATUS_BUFFER_OVERFLOW',
  2147483654: 'STATUS_NO_MORE_FILES',
  3221225480: 'STATUS_INVALID_HANDLE',
  3221225485: 'STATUS_INVALID_PARAMETER',
  3221225488: 'STATUS_INVALID_DEVICE_REQUEST',
  3221225489: 'STATUS_END_OF_FILE',
  3221225494: 'STATUS_MORE_PROCESSING_REQUIRED',
  3221225506: 'STATUS_ACCESS_DENIED',
  3221225523: 'STATUS_OBJECT_NAME_INVALID',
  3221225524: 'STATUS_OBJECT_NAME_NOT_FOUND',
  3221225525: 'STATUS_OBJECT_NAME_COLLISION',
  3221225530: 'STATUS_OBJECT_PATH_NOT_FOUND',
  3221225539: 'STATUS_SHARING_VIOLATION',
  3221225572: 'STATUS_NO_SUCH_USER',
  3221225578: 'STATUS_WRONG_PASSWORD',
  3221225581: 'STATUS_LOGON_FAILURE',
  3221225582: 'STATUS_ACCOUNT_RESTRICTION',
  3221225583: 'STATUS_INVALID_LOGON_HOURS',
  3221225584: 'STATUS_INVALID_WORKSTATION',
  3221225585: 'STATUS_PASSWORD_EXPIRED',
  3221225586: 'STATUS_ACCOUNT_DISABLED',
  3221225644: 'STATUS_PIPE_NOT_AVAILABLE',
  3221225648: 'STATUS_PIPE_DISCONNECTED',
  3221225659: 'STATUS_NOT_SUPPORTED',
  3221225673: 'STATUS_NETWORK_NAME_DELETED',
  3221225676: 'STATUS_BAD_NETWORK_NAME',
  3221225760: 'STATUS_CANCELLED',
  3221225768: 'STATUS_FILE_CLOSED',
  3221225803: 'STATUS_PIPE_BROKEN',
  3221225819: 'STATUS_LOGON_TYPE_NOT_GRANTED',
  3221225875: 'STATUS_ACCOUNT_EXPIRED',
  3221225987: 'STATUS_USER_SESSION_DELETED',
  3221226020: 'STATUS_PASSWORD_MUST_CHANGE',
  3221226021: 'STATUS_NOT_FOUND',
  3221226036: 'STATUS_ACCOUNT_LOCKED_OUT',
  3221226332: 'STATUS_NETWORK_SESSION_EXPIRED',
};

/** The symbolic name of an NTSTATUS, when it is a common one. */
export function ntStatusName(status: number): string | undefined {
  return statusNames[status];
}

// MS-SMB2 §2.2.3: DialectRevision values; 0x02FF is the wildcard answer to an SMB1 negotiate.
const dialectNames: Readonly<Record<number, string>> = {
  514: '2.0.2',
  528: '2.1',
  768: '3.0',
  770: '3.0.2',
  785: '3.1.1',
  767: '2.???',
};

/** `2.1`, `3.1.1`, … for a dialect revision. */
export function smb2DialectName(dialect: number): string {
  return dialectNames[dialect] ?? `0x${dialect.toString(16).padStart(4, '0')}`;
}

/** The 64-byte SMB2 packet header (MS-SMB2 §2.2.1.1 async, §2.2.1.2 sync). */
export interface Smb2Header {
  readonly creditCharge: number;
  /** NTSTATUS in responses; ChannelSequence/Reserved in requests. */
  readonly status: number;
  readonly statusName?: string;
  readonly command: number;
  readonly commandName: string;
  readonly creditRequestResponse: number;
  readonly flags: number;
  readonly isResponse: boolean;
  readonly isAsync: boolean;
  readonly isRelated: boolean;
  readonly isSigned: boolean;
  readonly nextCommand: number;
  /** MessageId; exact below 2^53 (the unsolicited 0xFFFF…FF reads as 2^64). */
  readonly messageId: number;
  readonly asyncId?: number;
  readonly treeId?: number;
  /** SessionId as 16 hex digits with `0x`, as Wireshark shows it. */
  readonly sessionId: string;
}

/** A negotiate context (MS-SMB2 §2.2.3.1); ciphers and signing algorithms decoded. */
export interface Smb2NegotiateContext {
  readonly contextType: number;
  readonly dataLength: number;
  /** ENCRYPTION_CAPABILITIES: cipher ids (1 AES-128-CCM, 2 AES-128-GCM, 3 AES-256-CCM, 4 AES-256-GCM). */
  readonly ciphers?: readonly number[];
  /** SIGNING_CAPABILITIES: 0 HMAC-SHA256, 1 AES-CMAC, 2 AES-GMAC. */
  readonly signingAlgorithms?: readonly number[];
}

/** Decoded command bodies, tagged by command and direction; others keep their StructureSize. */
export type Smb2Body =
  | {
      readonly kind: 'negotiateRequest';
      readonly securityMode: number;
      readonly capabilities: number;
      readonly clientGuid: string;
      readonly dialects: readonly number[];
      readonly negotiateContexts: readonly Smb2NegotiateContext[];
    }
  | {
      readonly kind: 'negotiateResponse';
      readonly securityMode: number;
      readonly dialectRevision: number;
      readonly dialectName: string;
      readonly serverGuid: string;
      readonly capabilities: number;
      readonly maxTransactSize: number;
      readonly maxReadSize: number;
      readonly maxWriteSize: number;
      readonly securityBuffer: Uint8Array;
      readonly negotiateContexts: readonly Smb2NegotiateContext[];
    }
  | {
      readonly kind: 'sessionSetupRequest';
      readonly flags: number;
      readonly securityMode: number;
      readonly capabilities: number;
      readonly previousSessionId: string;
      /** GSS token: SPNEGO, raw NTLMSSP or Kerberos (MS-SMB2 §2.2.5). */
      readonly securityBuffer: Uint8Array;
    }
  | {
      readonly kind: 'sessionSetupResponse';
      /** 0x1 IS_GUEST, 0x2 IS_NULL, 0x4 ENCRYPT_DATA (MS-SMB2 §2.2.6). */
      readonly sessionFlags: number;
      readonly securityBuffer: Uint8Array;
    }
  | { readonly kind: 'treeConnectRequest'; readonly flags: number; readonly path: string }
  | {
      readonly kind: 'treeConnectResponse';
      /** 1 disk, 2 pipe, 3 print (MS-SMB2 §2.2.10). */
      readonly shareType: number;
      readonly shareFlags: number;
      readonly capabilities: number;
      readonly maximalAccess: number;
    }
  | {
      readonly kind: 'createRequest';
      readonly requestedOplockLevel: number;
      readonly impersonationLevel: number;
      readonly desiredAccess: number;
      readonly fileAttributes: number;
      readonly shareAccess: number;
      readonly createDisposition: number;
      readonly createOptions: number;
      /** Path relative to the share; for IPC$ the pipe name, e.g. `samr`. */
      readonly name: string;
      /** Names of the create contexts, e.g. `MxAc`, `QFid`, `DH2Q`. */
      readonly createContexts: readonly string[];
    }
  | {
      readonly kind: 'createResponse';
      readonly oplockLevel: number;
      readonly createAction: number;
      readonly fileAttributes: number;
      readonly endOfFile: number;
      readonly fileId: string;
    }
  | { readonly kind: 'closeRequest'; readonly fileId: string }
  | {
      readonly kind: 'readRequest';
      readonly fileId: string;
      readonly length: number;
      readonly offset: number;
    }
  | { readonly kind: 'readResponse'; readonly data: Uint8Array; readonly dataRemaining: number }
  | {
      readonly kind: 'writeRequest';
      readonly fileId: string;
      readonly offset: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: 'writeResponse'; readonly count: number }
  | {
      readonly kind: 'ioctlRequest';
      readonly ctlCode: number;
      readonly fileId: string;
      readonly flags: number;
      readonly maxOutputResponse: number;
      readonly input: Uint8Array;
    }
  | {
      readonly kind: 'ioctlResponse';
      readonly ctlCode: number;
      readonly fileId: string;
      readonly input: Uint8Array;
      readonly output: Uint8Array;
    }
  | { readonly kind: 'errorResponse'; readonly errorContextCount: number; readonly byteCount: number }
  | { readonly kind: 'other'; readonly structureSize: number };

/** One command of a (possibly compounded) message. */
export interface Smb2Command {
  readonly header: Smb2Header;
  readonly body: Smb2Body;
  /** Offset of the header within the message. */
  readonly offset: number;
}

/** The SMB2 TRANSFORM_HEADER of an encrypted message (MS-SMB2 §2.2.41). */
export interface Smb2TransformHeader {
  readonly nonce: Uint8Array;
  readonly originalMessageSize: number;
  /** Flags (3.1.1: 0x1 encrypted) or EncryptionAlgorithm (3.0, 3.0.2). */
  readonly flags: number;
  readonly sessionId: string;
}

/** What one NetBIOS session message carried. */
export type Smb2Packet =
  | { readonly kind: 'smb2'; readonly commands: readonly Smb2Command[] }
  | { readonly kind: 'encrypted'; readonly transform: Smb2TransformHeader; readonly size: number }
  | {
      readonly kind: 'compressed';
      readonly originalCompressedSegmentSize: number;
      readonly compressionAlgorithm: number;
      readonly flags: number;
    }
  | {
      readonly kind: 'smb1';
      readonly command: number;
      readonly status: number;
      readonly isResponse: boolean;
      /** Dialect strings of an SMB_COM_NEGOTIATE request, e.g. `NT LM 0.12`, `SMB 2.002`. */
      readonly dialects?: readonly string[];
    };

export interface Smb2DecodeResult {
  readonly value?: Smb2Packet;
  readonly diagnostics: readonly Smb2Diagnostic[];
}

export const SMB2_HEADER_SIZE = 64;
const MAX_COMPOUND = 64;
const SMB1_NEGOTIATE = 0x72;

/** The first four bytes of each message kind, as a big-endian number. */
export const SMB_MAGIC = {
  smb2: 0xfe534d42,
  transform: 0xfd534d42,
  compressed: 0xfc534d42,
  smb1: 0xff534d42,
} as const;

/**
 * Decodes one message: the payload of one NetBIOS session message on TCP port 445.
 * @example decodeSmb2Message(payload).value?.kind === 'smb2'
 */
export function decodeSmb2Message(bytes: Uint8Array, base = 0): Smb2DecodeResult {
  const r = new ByteReader(bytes, base);
  try {
    const magic = r.u32be(0, 'ProtocolId');
    switch (magic) {
      case SMB_MAGIC.smb2:
        return readCompound(r);
      case SMB_MAGIC.transform:
        return { value: readTransform(r), diagnostics: [] };
      case SMB_MAGIC.compressed:
        return {
          value: {
            kind: 'compressed',
            originalCompressedSegmentSize: r.u32le(4, 'OriginalCompressedSegmentSize'),
            compressionAlgorithm: r.u16le(8, 'CompressionAlgorithm'),
            flags: r.u16le(10, 'Flags'),
          },
          diagnostics: [],
        };
      case SMB_MAGIC.smb1:
        return { value: readSmb1(r), diagnostics: [] };
      default:
        throw new ParseError<Smb2DiagnosticCode>({
          code: 'smb2/bad-header',
          offset: base,
          field: 'ProtocolId',
          expected: 'FE 53 4D 42, FD 53 4D 42, FC 53 4D 42 or FF 53 4D 42',
          found: hexPreview(bytes, 0, 4),
        });
    }
  } catch (error) {
    return { diagnostics: [smb2Diagnostic(error)] };
  }
}

/** Turns a ParseError into an SMB2 diagnostic; anything else is a bug and is rethrown. */
export function smb2Diagnostic(error: unknown): Smb2Diagnostic {
  if (!(error instanceof ParseError)) throw error;
  const code: Smb2DiagnosticCode =
    error.code === 'binary/out-of-bounds'
      ? 'smb2/truncated'
      : (smb2DiagnosticCodes as readonly string[]).includes(error.code)
        ? (error.code as Smb2DiagnosticCode)
        : 'smb2/bad-value';
  return { severity: 'error', code, message: error.message, offset: error.offset };
}

function readCompound(r: ByteReader): Smb2DecodeResult {
  const commands: Smb2Command[] = [];
  const diagnostics: Smb2Diagnostic[] = [];
  let at = 0;
  try {
    for (;;) {
      if (commands.length === MAX_COMPOUND) {
        diagnostics.push({
          severity: 'error',
          code: 'smb2/too-many-commands',
          message: `expected at most ${MAX_COMPOUND} compounded commands, found more at ${r.base + at}`,
          offset: r.base + at,
        });
        break;
      }
      const header = readHeader(r, at);
      // Offsets inside a command count from its own header (MS-SMB2 §3.2.4.1.4).
      const end = header.nextCommand === 0 ? r.length : at + header.nextCommand;
      if (header.nextCommand !== 0 && (header.nextCommand < SMB2_HEADER_SIZE || end > r.length)) {
        throw new ParseError<Smb2DiagnosticCode>({
          code: 'smb2/bad-offset',
          offset: r.base + at + 20,
          field: 'NextCommand',
          expected: `an offset from ${SMB2_HEADER_SIZE} to ${r.length - at}`,
          found: `${header.nextCommand}`,
        });
      }
      const command = new ByteReader(r.bytes.subarray(at, end), r.base + at);
      commands.push({ header, body: readBody(command, header), offset: at });
      if (header.nextCommand === 0) break;
      at = end;
    }
  } catch (error) {
    diagnostics.push(smb2Diagnostic(error));
    if (commands.length === 0) return { diagnostics };
  }
  return { value: { kind: 'smb2', commands }, diagnostics };
}

function readHeader(r: ByteReader, at: number): Smb2Header {
  r.ensure(at, SMB2_HEADER_SIZE, 'SMB2 header');
  if (r.u32be(at, 'ProtocolId') !== SMB_MAGIC.smb2 || r.u16le(at + 4, 'StructureSize') !== 64) {
    throw new ParseError<Smb2DiagnosticCode>({
      code: 'smb2/bad-header',
      offset: r.base + at,
      field: 'SMB2 header',
      expected: 'ProtocolId FE 53 4D 42 and StructureSize 64',
      found: hexPreview(r.bytes, at, 6),
    });
  }
  const status = r.u32le(at + 8, 'Status');
  const command = r.u16le(at + 12, 'Command');
  const flags = r.u32le(at + 16, 'Flags');
  const isAsync = (flags & SMB2_FLAGS_ASYNC_COMMAND) !== 0;
  const statusName = statusNames[status];
  const isResponse = (flags & SMB2_FLAGS_SERVER_TO_REDIR) !== 0;
  const header: { -readonly [K in keyof Smb2Header]: Smb2Header[K] } = {
    creditCharge: r.u16le(at + 6, 'CreditCharge'),
    status,
    command,
    commandName: smb2Commands[command] ?? `0x${command.toString(16)}`,
    creditRequestResponse: r.u16le(at + 14, 'CreditRequest/CreditResponse'),
    flags,
    isResponse,
    isAsync,
    isRelated: (flags & SMB2_FLAGS_RELATED_OPERATIONS) !== 0,
    isSigned: (flags & SMB2_FLAGS_SIGNED) !== 0,
    nextCommand: r.u32le(at + 20, 'NextCommand'),
    messageId: r.u64leNumber(at + 24, 'MessageId'),
    sessionId: hex64(r, at + 40, 'SessionId'),
  };
  // Optional fields are added after the literal: spreading them into it made this the costliest
  // function of SMB2 decoding (every header took V8's slow object-building path).
  if (statusName && isResponse) header.statusName = statusName;
  if (isAsync) header.asyncId = r.u64leNumber(at + 32, 'AsyncId');
  else header.treeId = r.u32le(at + 36, 'TreeId');
  return header;
}

// Field offsets below are relative to the start of the body (right after the header), as in
// the MS-SMB2 diagrams; buffer offsets in the messages count from the start of the header.
function readBody(r: ByteReader, header: Smb2Header): Smb2Body {
  const b = SMB2_HEADER_SIZE;
  const structureSize = r.u16le(b, 'StructureSize');
  if (header.isResponse && isErrorBody(header, structureSize)) {
    return {
      kind: 'errorResponse',
      errorContextCount: r.u8(b + 2, 'ErrorContextCount'),
      byteCount: r.u32le(b + 4, 'ByteCount'),
    };
  }
  const fileId = (at: number) => readUuid(r, b + at, true, 'FileId');
  switch (header.command) {
    case SMB2_NEGOTIATE:
      return header.isResponse ? readNegotiateResponse(r) : readNegotiateRequest(r);
    case SMB2_SESSION_SETUP:
      if (header.isResponse) {
        return {
          kind: 'sessionSetupResponse',
          sessionFlags: r.u16le(b + 2, 'SessionFlags'),
          securityBuffer: buffer(
            r,
            r.u16le(b + 4, 'SecurityBufferOffset'),
            r.u16le(b + 6, 'SecurityBufferLength'),
            'security buffer',
          ),
        };
      }
      return {
        kind: 'sessionSetupRequest',
        flags: r.u8(b + 2, 'Flags'),
        securityMode: r.u8(b + 3, 'SecurityMode'),
        capabilities: r.u32le(b + 4, 'Capabilities'),
        previousSessionId: hex64(r, b + 16, 'PreviousSessionId'),
        securityBuffer: buffer(
          r,
          r.u16le(b + 12, 'SecurityBufferOffset'),
          r.u16le(b + 14, 'SecurityBufferLength'),
          'security buffer',
        ),
      };
    case SMB2_TREE_CONNECT:
      if (header.isResponse) {
        return {
          kind: 'treeConnectResponse',
          shareType: r.u8(b + 2, 'ShareType'),
          shareFlags: r.u32le(b + 4, 'ShareFlags'),
          capabilities: r.u32le(b + 8, 'Capabilities'),
          maximalAccess: r.u32le(b + 12, 'MaximalAccess'),
        };
      }
      return readTreeConnectRequest(r);
    case SMB2_CREATE:
      if (header.isResponse) {
        return {
          kind: 'createResponse',
          oplockLevel: r.u8(b + 2, 'OplockLevel'),
          createAction: r.u32le(b + 4, 'CreateAction'),
          endOfFile: r.u64leNumber(b + 48, 'EndofFile'),
          fileAttributes: r.u32le(b + 56, 'FileAttributes'),
          fileId: fileId(64),
        };
      }
      return readCreateRequest(r);
    case SMB2_CLOSE:
      return header.isResponse ? other(structureSize) : { kind: 'closeRequest', fileId: fileId(8) };
    case SMB2_READ:
      if (header.isResponse) {
        return {
          kind: 'readResponse',
          data: buffer(r, r.u8(b + 2, 'DataOffset'), r.u32le(b + 4, 'DataLength'), 'read data'),
          dataRemaining: r.u32le(b + 8, 'DataRemaining'),
        };
      }
      return {
        kind: 'readRequest',
        length: r.u32le(b + 4, 'Length'),
        offset: r.u64leNumber(b + 8, 'Offset'),
        fileId: fileId(16),
      };
    case SMB2_WRITE:
      if (header.isResponse) return { kind: 'writeResponse', count: r.u32le(b + 4, 'Count') };
      return {
        kind: 'writeRequest',
        data: buffer(r, r.u16le(b + 2, 'DataOffset'), r.u32le(b + 4, 'Length'), 'write data'),
        offset: r.u64leNumber(b + 8, 'Offset'),
        fileId: fileId(16),
      };
    case SMB2_IOCTL:
      if (header.isResponse) {
        return {
          kind: 'ioctlResponse',
          ctlCode: r.u32le(b + 4, 'CtlCode'),
          fileId: fileId(8),
          input: buffer(r, r.u32le(b + 24, 'InputOffset'), r.u32le(b + 28, 'InputCount'), 'IOCTL input'),
          output: buffer(r, r.u32le(b + 32, 'OutputOffset'), r.u32le(b + 36, 'OutputCount'), 'IOCTL output'),
        };
      }
      return {
        kind: 'ioctlRequest',
        ctlCode: r.u32le(b + 4, 'CtlCode'),
        fileId: fileId(8),
        input: buffer(r, r.u32le(b + 24, 'InputOffset'), r.u32le(b + 28, 'InputCount'), 'IOCTL input'),
        maxOutputResponse: r.u32le(b + 44, 'MaxOutputResponse'),
        flags: r.u32le(b + 48, 'Flags'),
      };
    default:
      return other(structureSize);
  }
}

// MS-SMB2 §3.3.4.4: failures are sent as an ERROR response (StructureSize 9), except
// MORE_PROCESSING_REQUIRED on SESSION_SETUP and BUFFER_OVERFLOW, which keep their usual body.
function isErrorBody(header: Smb2Header, structureSize: number): boolean {
  if (structureSize !== 9 || header.status === STATUS_SUCCESS || header.status === STATUS_BUFFER_OVERFLOW) {
    return false;
  }
  return !(header.command === SMB2_SESSION_SETUP && header.status === STATUS_MORE_PROCESSING_REQUIRED);
}

function other(structureSize: number): Smb2Body {
  return { kind: 'other', structureSize };
}

function readNegotiateRequest(r: ByteReader): Smb2Body {
  const b = SMB2_HEADER_SIZE;
  const count = r.u16le(b + 2, 'DialectCount');
  const dialects: number[] = [];
  for (let i = 0; i < count; i++) dialects.push(r.u16le(b + 36 + i * 2, `Dialects[${i}]`));
  // NegotiateContextOffset/Count are only meaningful when 3.1.1 is offered.
  const negotiateContexts = dialects.includes(0x0311)
    ? readNegotiateContexts(
        r,
        r.u32le(b + 28, 'NegotiateContextOffset'),
        r.u16le(b + 32, 'NegotiateContextCount'),
      )
    : [];
  return {
    kind: 'negotiateRequest',
    securityMode: r.u16le(b + 4, 'SecurityMode'),
    capabilities: r.u32le(b + 8, 'Capabilities'),
    clientGuid: readUuid(r, b + 12, true, 'ClientGuid'),
    dialects,
    negotiateContexts,
  };
}

function readNegotiateResponse(r: ByteReader): Smb2Body {
  const b = SMB2_HEADER_SIZE;
  const dialectRevision = r.u16le(b + 4, 'DialectRevision');
  const negotiateContexts =
    dialectRevision === 0x0311
      ? readNegotiateContexts(
          r,
          r.u32le(b + 60, 'NegotiateContextOffset'),
          r.u16le(b + 6, 'NegotiateContextCount'),
        )
      : [];
  return {
    kind: 'negotiateResponse',
    securityMode: r.u16le(b + 2, 'SecurityMode'),
    dialectRevision,
    dialectName: smb2DialectName(dialectRevision),
    serverGuid: readUuid(r, b + 8, true, 'ServerGuid'),
    capabilities: r.u32le(b + 24, 'Capabilities'),
    maxTransactSize: r.u32le(b + 28, 'MaxTransactSize'),
    maxReadSize: r.u32le(b + 32, 'MaxReadSize'),
    maxWriteSize: r.u32le(b + 36, 'MaxWriteSize'),
    securityBuffer: buffer(
      r,
      r.u16le(b + 56, 'SecurityBufferOffset'),
      r.u16le(b + 58, 'SecurityBufferLength'),
      'security buffer',
    ),
    negotiateContexts,
  };
}

const ENCRYPTION_CAPABILITIES = 0x2;
const SIGNING_CAPABILITIES = 0x8;

function readNegotiateContexts(r: ByteReader, offset: number, count: number): Smb2NegotiateContext[] {
  const contexts: Smb2NegotiateContext[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    const contextType = r.u16le(at, `negotiate context ${i} ContextType`);
    const dataLength = r.u16le(at + 2, `negotiate context ${i} DataLength`);
    r.ensure(at + 8, dataLength, `negotiate context ${i} Data`);
    const list = (field: string): number[] => {
      const n = r.u16le(at + 8, `${field} count`);
      const out: number[] = [];
      for (let j = 0; j < n && 2 + j * 2 + 2 <= dataLength; j++) out.push(r.u16le(at + 10 + j * 2, field));
      return out;
    };
    if (contextType === ENCRYPTION_CAPABILITIES) {
      contexts.push({ contextType, dataLength, ciphers: list('Ciphers') });
    } else if (contextType === SIGNING_CAPABILITIES) {
      contexts.push({ contextType, dataLength, signingAlgorithms: list('SigningAlgorithms') });
    } else {
      contexts.push({ contextType, dataLength });
    }
    // Each context starts 8-byte aligned.
    at = (at + 8 + dataLength + 7) & ~7;
  }
  return contexts;
}

const TREE_CONNECT_FLAG_EXTENSION_PRESENT = 0x4;

function readTreeConnectRequest(r: ByteReader): Smb2Body {
  const b = SMB2_HEADER_SIZE;
  const flags = r.u16le(b + 2, 'Flags');
  if (flags & TREE_CONNECT_FLAG_EXTENSION_PRESENT) {
    // MS-SMB2 §2.2.9.1: the extension leads the buffer; PathName follows its 16 fixed bytes
    // and runs up to the tree connect contexts (offset from the start of the request body).
    const pathStart = b + 8 + 16;
    const contextsAt = b + r.u32le(b + 8, 'TreeConnectContextOffset');
    const pathEnd = contextsAt > pathStart ? contextsAt : r.length;
    const path = text(r, pathStart, pathEnd - pathStart, 'path').replace(/\0+$/, '');
    return { kind: 'treeConnectRequest', flags, path };
  }
  const path = text(r, r.u16le(b + 4, 'PathOffset'), r.u16le(b + 6, 'PathLength'), 'path');
  return { kind: 'treeConnectRequest', flags, path };
}

function readCreateRequest(r: ByteReader): Smb2Body {
  const b = SMB2_HEADER_SIZE;
  const contextsOffset = r.u32le(b + 48, 'CreateContextsOffset');
  const contextsLength = r.u32le(b + 52, 'CreateContextsLength');
  return {
    kind: 'createRequest',
    requestedOplockLevel: r.u8(b + 3, 'RequestedOplockLevel'),
    impersonationLevel: r.u32le(b + 4, 'ImpersonationLevel'),
    desiredAccess: r.u32le(b + 24, 'DesiredAccess'),
    fileAttributes: r.u32le(b + 28, 'FileAttributes'),
    shareAccess: r.u32le(b + 32, 'ShareAccess'),
    createDisposition: r.u32le(b + 36, 'CreateDisposition'),
    createOptions: r.u32le(b + 40, 'CreateOptions'),
    name: text(r, r.u16le(b + 44, 'NameOffset'), r.u16le(b + 46, 'NameLength'), 'file name'),
    createContexts: contextsLength > 0 ? readCreateContextNames(r, contextsOffset, contextsLength) : [],
  };
}

// MS-SMB2 §2.2.13.2: a chain of contexts linked by Next offsets; the name is ASCII.
function readCreateContextNames(r: ByteReader, offset: number, length: number): string[] {
  r.ensure(offset, length, 'create contexts');
  const names: string[] = [];
  let at = offset;
  for (let i = 0; i < MAX_COMPOUND; i++) {
    const next = r.u32le(at, 'create context Next');
    const nameOffset = r.u16le(at + 4, 'create context NameOffset');
    const nameLength = r.u16le(at + 6, 'create context NameLength');
    names.push(r.latin1(at + nameOffset, nameLength, 'create context Name'));
    if (next === 0) break;
    if (next < 16 || at + next >= offset + length) {
      throw new ParseError<Smb2DiagnosticCode>({
        code: 'smb2/bad-offset',
        offset: r.base + at,
        field: 'create context Next',
        expected: 'an offset to a context inside the create contexts',
        found: `${next}`,
      });
    }
    at += next;
  }
  return names;
}

function readTransform(r: ByteReader): Smb2Packet {
  r.ensure(0, 52, 'TRANSFORM_HEADER');
  return {
    kind: 'encrypted',
    transform: {
      nonce: r.slice(20, 16, 'Nonce'),
      originalMessageSize: r.u32le(36, 'OriginalMessageSize'),
      flags: r.u16le(42, 'Flags/EncryptionAlgorithm'),
      sessionId: hex64(r, 44, 'SessionId'),
    },
    size: r.length,
  };
}

// MS-CIFS §2.2.3.1 header; §2.2.4.52.1 negotiate request: dialect strings, each 0x02 + NUL-terminated.
function readSmb1(r: ByteReader): Smb2Packet {
  r.ensure(0, 32, 'SMB1 header');
  const command = r.u8(4, 'Command');
  const status = r.u32le(5, 'Status');
  const isResponse = (r.u8(9, 'Flags') & 0x80) !== 0;
  if (command !== SMB1_NEGOTIATE || isResponse) return { kind: 'smb1', command, status, isResponse };
  const wordCount = r.u8(32, 'WordCount');
  const at = 33 + wordCount * 2;
  const byteCount = r.u16le(at, 'ByteCount');
  r.ensure(at + 2, byteCount, 'dialect strings');
  const dialects: string[] = [];
  let p = at + 2;
  const end = at + 2 + byteCount;
  while (p < end) {
    if (r.u8(p, 'BufferFormat') !== 0x02) break;
    let q = p + 1;
    while (q < end && r.u8(q, 'dialect string') !== 0) q++;
    dialects.push(r.latin1(p + 1, q - p - 1, 'dialect string'));
    p = q + 1;
  }
  return { kind: 'smb1', command, status, isResponse, dialects };
}

/** Bytes at an offset from the start of the command's header; an empty buffer may point anywhere. */
function buffer(r: ByteReader, offset: number, length: number, field: string): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  if (offset < SMB2_HEADER_SIZE) {
    throw new ParseError<Smb2DiagnosticCode>({
      code: 'smb2/bad-offset',
      offset: r.base,
      field: `${field} offset`,
      expected: `an offset past the ${SMB2_HEADER_SIZE}-byte header`,
      found: `${offset}`,
    });
  }
  return r.slice(offset, length, field);
}

function text(r: ByteReader, offset: number, length: number, field: string): string {
  const bytes = buffer(r, offset, length, field);
  return new ByteReader(bytes, r.base + offset).utf16le(0, bytes.length >> 1, field);
}

function hex64(r: ByteReader, at: number, field: string): string {
  const high = r.u32le(at + 4, field);
  const low = r.u32le(at, field);
  return `0x${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(8, '0')}`;
}
