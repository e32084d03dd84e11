// Kerberos V5 messages (RFC 4120 §5) from a UDP payload or a TCP record: AS/TGS requests and
// replies, AP-REQ/AP-REP and KRB-ERROR, with the pre-authentication data detections read
// (MS-KILE, MS-SFU, RFC 6113). Nothing is decrypted; encrypted parts keep only etype, kvno, length.
import { ByteReader, hexPreview, ParseError } from '@palisade/binary';
import { type BerElement, BerReader, universalTags } from './asn1-ber.ts';

/** Every condition the Kerberos decoder reports. */
export const kerberosDiagnosticCodes = [
  'kerberos/truncated',
  'kerberos/bad-encoding',
  'kerberos/too-deep',
  'kerberos/bad-value',
  'kerberos/unsupported-message',
  'kerberos/bad-padata',
  'kerberos/trailing-bytes',
  'kerberos/bad-record-length',
] as const;

export type KerberosDiagnosticCode = (typeof kerberosDiagnosticCodes)[number];

/** A finding about one message; `error` means the message was not decoded. */
export interface KerberosDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: KerberosDiagnosticCode;
  readonly message: string;
  /** Byte offset in the datagram, or in the TCP stream for `KerberosTcpStream`. */
  readonly offset: number;
}

/** A principal (RFC 4120 §5.2.2): `krbtgt/CORP.LAB.TEST` is name type 2 with two strings. */
export interface PrincipalName {
  readonly nameType: number;
  readonly nameString: readonly string[];
}

/** What can be seen of EncryptedData (RFC 4120 §5.2.9) without a key. */
export interface EncryptedDataSummary {
  readonly etype: number;
  readonly kvno?: number;
  /** Length of the cipher text; the cipher itself is not kept. */
  readonly cipherLength: number;
  /**
   * The first 16 bytes of the cipher text as hex: enough to recognise one ticket when it is
   * presented again (its cipher text is unique), far too little to attack it.
   */
  readonly cipherHead: string;
}

/** A ticket's clear part (RFC 4120 §5.3). */
export interface TicketSummary {
  readonly tktVno: number;
  readonly realm: string;
  readonly sname: PrincipalName;
  readonly encPart: EncryptedDataSummary;
}

/** One ETYPE-INFO or ETYPE-INFO2 entry (RFC 4120 §5.2.7.4–5): the key types and salts a KDC offers. */
export interface EtypeInfoEntry {
  readonly etype: number;
  readonly salt?: string;
}

/** A HostAddress (RFC 4120 §5.2.5); Windows sends its NetBIOS name as type 20. */
export interface HostAddress {
  readonly addrType: number;
  /** Dotted IPv4, colon-separated IPv6 hex, the NetBIOS name without padding, else hex. */
  readonly address: string;
}

/** The pre-authentication data of a request or reply, read as far as detections need. */
export interface PaDataSummary {
  /** padata-type of every PA-DATA, in order (RFC 4120 §5.2.7; IANA registry). */
  readonly padataTypes: readonly number[];
  /** A PA-ENC-TIMESTAMP (2) with a value is present: the client pre-authenticated with its key. */
  readonly hasEncryptedTimestamp: boolean;
  /** The etype PA-ENC-TIMESTAMP was encrypted with. */
  readonly encTimestampEtype?: number;
  /** include-pac of PA-PAC-REQUEST (128, MS-KILE §2.2.3); absent when the client sent none. */
  readonly pacRequest?: boolean;
  /** PA-ETYPE-INFO (11) entries. */
  readonly etypeInfo?: readonly EtypeInfoEntry[];
  /** PA-ETYPE-INFO2 (19) entries. */
  readonly etypeInfo2?: readonly EtypeInfoEntry[];
  /** PA-FOR-USER (129, MS-SFU §2.2.1): the user an S4U2Self request asks a ticket for. */
  readonly forUser?: { readonly userName: PrincipalName; readonly userRealm: string };
  /** The ticket in the AP-REQ of PA-TGS-REQ (1): the TGT a TGS-REQ presents (a service ticket to renew). */
  readonly tgt?: TicketSummary;
  /** The authenticator of that AP-REQ: its etype is the TGT session key's. */
  readonly tgsAuthenticator?: EncryptedDataSummary;
}

/** AS-REQ and TGS-REQ (RFC 4120 §5.4.1). */
export interface KerberosKdcReq extends PaDataSummary {
  readonly kind: 'as-req' | 'tgs-req';
  readonly msgType: 10 | 12;
  readonly pvno: number;
  /** KDCOptions as a 32-bit number, bit 0 (reserved) being the most significant. */
  readonly kdcOptions: number;
  /** Names of the options set, from `kdcOptionNames`. */
  readonly kdcOptionsSet: readonly string[];
  readonly cname?: PrincipalName;
  readonly realm: string;
  readonly sname?: PrincipalName;
  readonly from?: string;
  readonly till?: string;
  readonly rtime?: string;
  readonly nonce: number;
  /** Requested encryption types in the client's order of preference. */
  readonly etype: readonly number[];
  readonly addresses?: readonly HostAddress[];
  /** Tickets in additional-tickets (S4U2Proxy, user-to-user). */
  readonly additionalTickets?: readonly TicketSummary[];
}

/** AS-REP and TGS-REP (RFC 4120 §5.4.2). */
export interface KerberosKdcRep extends PaDataSummary {
  readonly kind: 'as-rep' | 'tgs-rep';
  readonly msgType: 11 | 13;
  readonly pvno: number;
  readonly crealm: string;
  readonly cname: PrincipalName;
  readonly ticket: TicketSummary;
  /** The part encrypted for the client; its etype is what AS-REP roasting cracks. */
  readonly encPart: EncryptedDataSummary;
}

/** AP-REQ (RFC 4120 §5.5.1). */
export interface KerberosApReq {
  readonly kind: 'ap-req';
  readonly msgType: 14;
  readonly pvno: number;
  readonly apOptions: number;
  readonly ticket: TicketSummary;
  readonly authenticator: EncryptedDataSummary;
}

/** AP-REP (RFC 4120 §5.5.2). */
export interface KerberosApRep {
  readonly kind: 'ap-rep';
  readonly msgType: 15;
  readonly pvno: number;
  readonly encPart: EncryptedDataSummary;
}

/** KRB-ERROR (RFC 4120 §5.9.1); `realm` and `sname` name the service. */
export interface KerberosError {
  readonly kind: 'krb-error';
  readonly msgType: 30;
  readonly pvno: number;
  readonly ctime?: string;
  readonly cusec?: number;
  readonly stime: string;
  readonly susec: number;
  readonly errorCode: number;
  /** RFC 4120 §7.5.9 name, such as `KDC_ERR_PREAUTH_REQUIRED`. */
  readonly errorName: string;
  readonly crealm?: string;
  readonly cname?: PrincipalName;
  readonly realm: string;
  readonly sname: PrincipalName;
  readonly eText?: string;
  /** What e-data held: METHOD-DATA (the pre-authentication the KDC wants) or an NTSTATUS; else empty. */
  readonly eData?: {
    readonly padata?: PaDataSummary;
    /** KERB-EXT-ERROR status (MS-KILE §2.2.2), such as 0xC0000234 for a locked-out account. */
    readonly ntStatus?: number;
  };
}

/** A message type this decoder recognises but does not decode (KRB-SAFE, KRB-PRIV, KRB-CRED). */
export interface KerberosOtherMessage {
  readonly kind: 'other';
  readonly msgType: number;
}

export type KerberosMessage =
  | KerberosKdcReq
  | KerberosKdcRep
  | KerberosApReq
  | KerberosApRep
  | KerberosError
  | KerberosOtherMessage;

export interface KerberosDecodeResult {
  readonly value?: KerberosMessage;
  readonly diagnostics: readonly KerberosDiagnostic[];
}

/** Message types by [APPLICATION n] tag (RFC 4120 §5.10). */
export const kerberosMessageTypes: Readonly<Record<number, string>> = {
  10: 'AS-REQ',
  11: 'AS-REP',
  12: 'TGS-REQ',
  13: 'TGS-REP',
  14: 'AP-REQ',
  15: 'AP-REP',
  20: 'KRB-SAFE',
  21: 'KRB-PRIV',
  22: 'KRB-CRED',
  30: 'KRB-ERROR',
};

/** KDCOptions bit names by bit number (RFC 4120 §5.4.1, MS-SFU §2.2.3, RFC 6806, RFC 8062). */
export const kdcOptionNames: Readonly<Record<number, string>> = {
  0: 'reserved',
  1: 'forwardable',
  2: 'forwarded',
  3: 'proxiable',
  4: 'proxy',
  5: 'allow-postdate',
  6: 'postdated',
  8: 'renewable',
  11: 'opt-hardware-auth',
  14: 'cname-in-addl-tkt',
  15: 'canonicalize',
  16: 'request-anonymous',
  26: 'disable-transited-check',
  27: 'renewable-ok',
  28: 'enc-tkt-in-skey',
  30: 'renew',
  31: 'validate',
};

/** Pre-authentication data types (IANA Kerberos parameters; RFC 4120, 4556, 6113, 8070, MS-KILE, MS-SFU). */
export const padataTypeNames: Readonly<Record<number, string>> = {
  1: 'PA-TGS-REQ',
  2: 'PA-ENC-TIMESTAMP',
  3: 'PA-PW-SALT',
  11: 'PA-ETYPE-INFO',
  14: 'PA-PK-AS-REQ_OLD',
  15: 'PA-PK-AS-REP_OLD',
  16: 'PA-PK-AS-REQ',
  17: 'PA-PK-AS-REP',
  19: 'PA-ETYPE-INFO2',
  20: 'PA-SVR-REFERRAL-INFO',
  128: 'PA-PAC-REQUEST',
  129: 'PA-FOR-USER',
  130: 'PA-FOR-X509-USER',
  133: 'PA-FX-COOKIE',
  136: 'PA-FX-FAST',
  137: 'PA-FX-ERROR',
  138: 'PA-ENCRYPTED-CHALLENGE',
  147: 'PA-PKINIT-KX',
  149: 'PA-REQ-ENC-PA-REP',
  150: 'PA-AS-FRESHNESS',
  165: 'PA-SUPPORTED-ETYPES',
  167: 'PA-PAC-OPTIONS',
};

/** Encryption types (RFC 3961, 3962, 4757, 6803, 8009; IANA). */
export const etypeNames: Readonly<Record<number, string>> = {
  1: 'des-cbc-crc',
  2: 'des-cbc-md4',
  3: 'des-cbc-md5',
  5: 'des3-cbc-md5',
  7: 'des3-cbc-sha1',
  16: 'des3-cbc-sha1-kd',
  17: 'aes128-cts-hmac-sha1-96',
  18: 'aes256-cts-hmac-sha1-96',
  19: 'aes128-cts-hmac-sha256-128',
  20: 'aes256-cts-hmac-sha384-192',
  23: 'rc4-hmac',
  24: 'rc4-hmac-exp',
  25: 'camellia128-cts-cmac',
  26: 'camellia256-cts-cmac',
};

/** Error codes (RFC 4120 §7.5.9, RFC 4556 §3.1.3, RFC 6113 §5.4.3). */
export const kerberosErrorNames: Readonly<Record<number, string>> = {
  0: 'KDC_ERR_NONE',
  1: 'KDC_ERR_NAME_EXP',
  2: 'KDC_ERR_SERVICE_EXP',
  3: 'KDC_ERR_BAD_PVNO',
  4: 'KDC_ERR_C_OLD_MAST_KVNO',
  5: 'KDC_ERR_S_OLD_MAST_KVNO',
  6: 'KDC_ERR_C_PRINCIPAL_UNKNOWN',
  7: 'KDC_ERR_S_PRINCIPAL_UNKNOWN',
  8: 'KDC_ERR_PRINCIPAL_NOT_UNIQUE',
  9: 'KDC_ERR_NULL_KEY',
  10: 'KDC_ERR_CANNOT_POSTDATE',
  11: 'KDC_ERR_NEVER_VALID',
  12: 'KDC_ERR_POLICY',
  13: 'KDC_ERR_BADOPTION',
  14: 'KDC_ERR_ETYPE_NOSUPP',
  15: 'KDC_ERR_SUMTYPE_NOSUPP',
  16: 'KDC_ERR_PADATA_TYPE_NOSUPP',
  17: 'KDC_ERR_TRTYPE_NOSUPP',
  18: 'KDC_ERR_CLIENT_REVOKED',
  19: 'KDC_ERR_SERVICE_REVOKED',
  20: 'KDC_ERR_TGT_REVOKED',
  21: 'KDC_ERR_CLIENT_NOTYET',
  22: 'KDC_ERR_SERVICE_NOTYET',
  23: 'KDC_ERR_KEY_EXPIRED',
  24: 'KDC_ERR_PREAUTH_FAILED',
  25: 'KDC_ERR_PREAUTH_REQUIRED',
  26: 'KDC_ERR_SERVER_NOMATCH',
  27: 'KDC_ERR_MUST_USE_USER2USER',
  28: 'KDC_ERR_PATH_NOT_ACCEPTED',
  29: 'KDC_ERR_SVC_UNAVAILABLE',
  31: 'KRB_AP_ERR_BAD_INTEGRITY',
  32: 'KRB_AP_ERR_TKT_EXPIRED',
  33: 'KRB_AP_ERR_TKT_NYV',
  34: 'KRB_AP_ERR_REPEAT',
  35: 'KRB_AP_ERR_NOT_US',
  36: 'KRB_AP_ERR_BADMATCH',
  37: 'KRB_AP_ERR_SKEW',
  38: 'KRB_AP_ERR_BADADDR',
  39: 'KRB_AP_ERR_BADVERSION',
  40: 'KRB_AP_ERR_MSG_TYPE',
  41: 'KRB_AP_ERR_MODIFIED',
  42: 'KRB_AP_ERR_BADORDER',
  44: 'KRB_AP_ERR_BADKEYVER',
  45: 'KRB_AP_ERR_NOKEY',
  46: 'KRB_AP_ERR_MUT_FAIL',
  47: 'KRB_AP_ERR_BADDIRECTION',
  48: 'KRB_AP_ERR_METHOD',
  49: 'KRB_AP_ERR_BADSEQ',
  50: 'KRB_AP_ERR_INAPP_CKSUM',
  51: 'KRB_AP_PATH_NOT_ACCEPTED',
  52: 'KRB_ERR_RESPONSE_TOO_BIG',
  60: 'KRB_ERR_GENERIC',
  61: 'KRB_ERR_FIELD_TOOLONG',
  62: 'KDC_ERR_CLIENT_NOT_TRUSTED',
  63: 'KDC_ERR_KDC_NOT_TRUSTED',
  64: 'KDC_ERR_INVALID_SIG',
  65: 'KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED',
  66: 'KDC_ERR_CERTIFICATE_MISMATCH',
  67: 'KRB_AP_ERR_NO_TGT',
  68: 'KDC_ERR_WRONG_REALM',
  69: 'KRB_AP_ERR_USER_TO_USER_REQUIRED',
  70: 'KDC_ERR_CANT_VERIFY_CERTIFICATE',
  71: 'KDC_ERR_INVALID_CERTIFICATE',
  72: 'KDC_ERR_REVOKED_CERTIFICATE',
  73: 'KDC_ERR_REVOCATION_STATUS_UNKNOWN',
  74: 'KDC_ERR_REVOCATION_STATUS_UNAVAILABLE',
  75: 'KDC_ERR_CLIENT_NAME_MISMATCH',
  76: 'KDC_ERR_KDC_NAME_MISMATCH',
  90: 'KDC_ERR_PREAUTH_EXPIRED',
  91: 'KDC_ERR_MORE_PREAUTH_DATA_REQUIRED',
  92: 'KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET',
  93: 'KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS',
};

const PA_TGS_REQ = 1;
const PA_ENC_TIMESTAMP = 2;
const PA_ETYPE_INFO = 11;
const PA_ETYPE_INFO2 = 19;
const PA_PAC_REQUEST = 128;
const PA_FOR_USER = 129;
/** KERB-ERROR-DATA data-type whose value is a KERB-EXT-ERROR (MS-KILE §2.2.1). */
const KERB_AP_ERR_TYPE_NTSTATUS = 3;

/** `krbtgt/CORP.LAB.TEST`: the name strings joined with `/` (RFC 1964 §2.1.1 display form, no realm). */
export function principalText(name: PrincipalName): string {
  return name.nameString.join('/');
}

/** The names of the KDCOptions bits set in `flags`, unknown bits as `bit-N`. */
export function kdcOptionsSet(flags: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (((flags >>> (31 - bit)) & 1) === 1) out.push(kdcOptionNames[bit] ?? `bit-${bit}`);
  }
  return out;
}

/**
 * Decodes one Kerberos message: a UDP payload, or one TCP record without its 4-byte length.
 * @example decodeKerberosMessage(udpPayload).value?.kind // 'as-req'
 */
export function decodeKerberosMessage(bytes: Uint8Array, base = 0): KerberosDecodeResult {
  const diagnostics: KerberosDiagnostic[] = [];
  try {
    const ber = new BerReader(bytes, base);
    const root = ber.root('Kerberos message');
    const value = readMessage(ber, root, diagnostics);
    if (root.end < bytes.length) {
      diagnostics.push({
        severity: 'warning',
        code: 'kerberos/trailing-bytes',
        message: `expected the message to end at 0x${(base + root.end).toString(16)}, found ${bytes.length - root.end} more bytes`,
        offset: base + root.end,
      });
    }
    return { value, diagnostics };
  } catch (error) {
    diagnostics.push(toDiagnostic(error, 'error', base));
    return { diagnostics };
  }
}

function readMessage(ber: BerReader, root: BerElement, diagnostics: KerberosDiagnostic[]): KerberosMessage {
  if (root.tagClass !== 'application' || !root.constructed) {
    throw new ParseError<KerberosDiagnosticCode>({
      code: 'kerberos/unsupported-message',
      offset: ber.reader.base + root.offset,
      field: 'Kerberos message',
      expected: 'an [APPLICATION n] message',
      found: hexPreview(ber.bytes, root.offset, 4),
    });
  }
  switch (root.tagNumber) {
    case 10:
    case 12:
      return readKdcReq(ber, root, diagnostics);
    case 11:
    case 13:
      return readKdcRep(ber, root, diagnostics);
    case 14:
      return readApReq(ber, root);
    case 15:
      return readApRep(ber, root);
    case 30:
      return readError(ber, root, diagnostics);
    case 20:
    case 21:
    case 22:
      return { kind: 'other', msgType: root.tagNumber };
    default:
      throw new ParseError<KerberosDiagnosticCode>({
        code: 'kerberos/unsupported-message',
        offset: ber.reader.base + root.offset,
        field: 'Kerberos message',
        expected: 'a Kerberos message type (10–15, 20–22, 30)',
        found: `[APPLICATION ${root.tagNumber}]`,
      });
  }
}

/** The SEQUENCE inside [APPLICATION n], its tagged components, and a check of pvno and msg-type. */
function body(
  ber: BerReader,
  root: BerElement,
  pvnoTag: number,
  name: string,
): { seq: BerElement; fields: Map<number, BerElement>; pvno: number } {
  const seq = ber.explicit(root, name);
  ber.expect(seq, 'universal', universalTags.sequence, name, true);
  const fields = ber.tagged(seq, name);
  const pvno = integer(ber, ber.required(fields, pvnoTag, seq, `${name} pvno`), `${name} pvno`);
  const msgTypeEl = ber.required(fields, pvnoTag + 1, seq, `${name} msg-type`);
  const msgType = integer(ber, msgTypeEl, `${name} msg-type`);
  if (msgType !== root.tagNumber) {
    throw new ParseError<KerberosDiagnosticCode>({
      code: 'kerberos/bad-value',
      offset: ber.reader.base + msgTypeEl.offset,
      field: `${name} msg-type`,
      expected: `${root.tagNumber}, as the [APPLICATION ${root.tagNumber}] tag says`,
      found: `${msgType}`,
    });
  }
  return { seq, fields, pvno };
}

function readKdcReq(ber: BerReader, root: BerElement, diagnostics: KerberosDiagnostic[]): KerberosKdcReq {
  const isAs = root.tagNumber === 10;
  const name = isAs ? 'AS-REQ' : 'TGS-REQ';
  // KDC-REQ ::= SEQUENCE { pvno [1], msg-type [2], padata [3] OPTIONAL, req-body [4] }
  const { seq, fields, pvno } = body(ber, root, 1, name);
  const padataEl = ber.optional(fields, 3, `${name} padata`);
  const padata = padataEl ? readPadata(ber, padataEl, `${name} padata`, diagnostics) : emptyPadata;
  const reqBody = ber.required(fields, 4, seq, `${name} req-body`);
  const b = ber.tagged(reqBody, 'KDC-REQ-BODY');
  const kdcOptions = ber.bitFlags(ber.required(b, 0, reqBody, 'kdc-options'), 'kdc-options');
  const cnameEl = ber.optional(b, 1, 'cname');
  const snameEl = ber.optional(b, 3, 'sname');
  const fromEl = ber.optional(b, 4, 'from');
  const tillEl = ber.optional(b, 5, 'till');
  const rtimeEl = ber.optional(b, 6, 'rtime');
  const addressesEl = ber.optional(b, 9, 'addresses');
  const ticketsEl = ber.optional(b, 11, 'additional-tickets');
  return {
    kind: isAs ? 'as-req' : 'tgs-req',
    msgType: isAs ? 10 : 12,
    pvno,
    ...padata,
    kdcOptions,
    kdcOptionsSet: kdcOptionsSet(kdcOptions),
    ...(cnameEl && { cname: readPrincipal(ber, cnameEl, 'cname') }),
    realm: kerberosString(ber, ber.required(b, 2, reqBody, 'realm'), 'realm'),
    ...(snameEl && { sname: readPrincipal(ber, snameEl, 'sname') }),
    ...(fromEl && { from: kerberosTime(ber, fromEl, 'from') }),
    // till is required by RFC 4120; a request without it is still worth reporting.
    ...(tillEl && { till: kerberosTime(ber, tillEl, 'till') }),
    ...(rtimeEl && { rtime: kerberosTime(ber, rtimeEl, 'rtime') }),
    nonce: integer(ber, ber.required(b, 7, reqBody, 'nonce'), 'nonce'),
    etype: ber.sequence(ber.required(b, 8, reqBody, 'etype'), 'etype').map((e) => integer(ber, e, 'etype')),
    ...(addressesEl && {
      addresses: ber.sequence(addressesEl, 'addresses').map((a) => readHostAddress(ber, a)),
    }),
    ...(ticketsEl && {
      additionalTickets: ber.sequence(ticketsEl, 'additional-tickets').map((t) => readTicket(ber, t)),
    }),
  };
}

function readKdcRep(ber: BerReader, root: BerElement, diagnostics: KerberosDiagnostic[]): KerberosKdcRep {
  const isAs = root.tagNumber === 11;
  const name = isAs ? 'AS-REP' : 'TGS-REP';
  // KDC-REP ::= SEQUENCE { pvno [0], msg-type [1], padata [2] OPTIONAL, crealm [3], cname [4],
  //                        ticket [5], enc-part [6] }
  const { seq, fields, pvno } = body(ber, root, 0, name);
  const padataEl = ber.optional(fields, 2, `${name} padata`);
  const padata = padataEl ? readPadata(ber, padataEl, `${name} padata`, diagnostics) : emptyPadata;
  return {
    kind: isAs ? 'as-rep' : 'tgs-rep',
    msgType: isAs ? 11 : 13,
    pvno,
    ...padata,
    crealm: kerberosString(ber, ber.required(fields, 3, seq, 'crealm'), 'crealm'),
    cname: readPrincipal(ber, ber.required(fields, 4, seq, 'cname'), 'cname'),
    ticket: readTicket(ber, ber.required(fields, 5, seq, 'ticket')),
    encPart: readEncryptedData(ber, ber.required(fields, 6, seq, 'enc-part'), 'enc-part'),
  };
}

function readApReq(ber: BerReader, root: BerElement): KerberosApReq {
  // AP-REQ ::= SEQUENCE { pvno [0], msg-type [1], ap-options [2], ticket [3], authenticator [4] }
  const { seq, fields, pvno } = body(ber, root, 0, 'AP-REQ');
  return {
    kind: 'ap-req',
    msgType: 14,
    pvno,
    apOptions: ber.bitFlags(ber.required(fields, 2, seq, 'ap-options'), 'ap-options'),
    ticket: readTicket(ber, ber.required(fields, 3, seq, 'ticket')),
    authenticator: readEncryptedData(ber, ber.required(fields, 4, seq, 'authenticator'), 'authenticator'),
  };
}

function readApRep(ber: BerReader, root: BerElement): KerberosApRep {
  // AP-REP ::= SEQUENCE { pvno [0], msg-type [1], enc-part [2] }
  const { seq, fields, pvno } = body(ber, root, 0, 'AP-REP');
  return {
    kind: 'ap-rep',
    msgType: 15,
    pvno,
    encPart: readEncryptedData(ber, ber.required(fields, 2, seq, 'enc-part'), 'enc-part'),
  };
}

function readError(ber: BerReader, root: BerElement, diagnostics: KerberosDiagnostic[]): KerberosError {
  // KRB-ERROR ::= SEQUENCE { pvno [0], msg-type [1], ctime [2] OPTIONAL, cusec [3] OPTIONAL,
  //   stime [4], susec [5], error-code [6], crealm [7] OPTIONAL, cname [8] OPTIONAL,
  //   realm [9], sname [10], e-text [11] OPTIONAL, e-data [12] OPTIONAL }
  const { seq, fields, pvno } = body(ber, root, 0, 'KRB-ERROR');
  const ctimeEl = ber.optional(fields, 2, 'ctime');
  const cusecEl = ber.optional(fields, 3, 'cusec');
  const crealmEl = ber.optional(fields, 7, 'crealm');
  const cnameEl = ber.optional(fields, 8, 'cname');
  const eTextEl = ber.optional(fields, 11, 'e-text');
  const eDataEl = ber.optional(fields, 12, 'e-data');
  const errorCode = integer(ber, ber.required(fields, 6, seq, 'error-code'), 'error-code');
  const eData = eDataEl ? soft(diagnostics, () => readErrorData(ber, eDataEl, diagnostics)) : undefined;
  return {
    kind: 'krb-error',
    msgType: 30,
    pvno,
    ...(ctimeEl && { ctime: kerberosTime(ber, ctimeEl, 'ctime') }),
    ...(cusecEl && { cusec: integer(ber, cusecEl, 'cusec') }),
    stime: kerberosTime(ber, ber.required(fields, 4, seq, 'stime'), 'stime'),
    susec: integer(ber, ber.required(fields, 5, seq, 'susec'), 'susec'),
    errorCode,
    errorName: kerberosErrorNames[errorCode] ?? `KRB_ERR_${errorCode}`,
    ...(crealmEl && { crealm: kerberosString(ber, crealmEl, 'crealm') }),
    ...(cnameEl && { cname: readPrincipal(ber, cnameEl, 'cname') }),
    realm: kerberosString(ber, ber.required(fields, 9, seq, 'realm'), 'realm'),
    sname: readPrincipal(ber, ber.required(fields, 10, seq, 'sname'), 'sname'),
    ...(eTextEl && { eText: kerberosString(ber, eTextEl, 'e-text') }),
    ...(eData && { eData }),
  };
}

/**
 * e-data is an OCTET STRING holding, by convention, METHOD-DATA (RFC 4120 §5.9.1), TYPED-DATA
 * (§5.9.1) or Windows' KERB-ERROR-DATA (MS-KILE §2.2.1); which one is told by its first element.
 */
function readErrorData(
  ber: BerReader,
  el: BerElement,
  diagnostics: KerberosDiagnostic[],
): KerberosError['eData'] {
  const octets = ber.octets(ber.expect(el, 'universal', universalTags.octetString, 'e-data'), 'e-data');
  const inner = new BerReader(octets, ber.reader.base + el.contentOffset, ber.maxDepth - el.depth);
  const seq = inner.root('e-data');
  inner.expect(seq, 'universal', universalTags.sequence, 'e-data', true);
  const items = inner.children(seq, 'e-data');
  const first = items[0];
  if (first?.tagClass === 'context') {
    // KERB-ERROR-DATA ::= SEQUENCE { data-type [1] INTEGER, data-value [2] OCTET STRING OPTIONAL }
    const f = inner.tagged(seq, 'KERB-ERROR-DATA');
    const dataType = integer(inner, inner.required(f, 1, seq, 'data-type'), 'data-type');
    const valueEl = inner.optional(f, 2, 'data-value');
    if (dataType !== KERB_AP_ERR_TYPE_NTSTATUS || !valueEl) return {};
    // KERB-EXT-ERROR: status, reserved, flags as little-endian 32-bit words.
    const value = inner.octets(valueEl, 'KERB-EXT-ERROR');
    return {
      ntStatus: new ByteReader(value, inner.reader.base + valueEl.contentOffset).u32le(
        0,
        'KERB-EXT-ERROR status',
      ),
    };
  }
  // METHOD-DATA entries are tagged [1] [2]; TYPED-DATA entries [0] [1].
  const entry = first ? inner.tagged(first, 'e-data entry') : undefined;
  if (entry?.has(1) && !entry.has(0)) return { padata: readPadata(inner, seq, 'METHOD-DATA', diagnostics) };
  return {};
}

const emptyPadata: PaDataSummary = { padataTypes: [], hasEncryptedTimestamp: false };

/** PA-DATA ::= SEQUENCE { padata-type [1] Int32, padata-value [2] OCTET STRING } (RFC 4120 §5.2.7). */
function readPadata(
  ber: BerReader,
  list: BerElement,
  field: string,
  diagnostics: KerberosDiagnostic[],
): PaDataSummary {
  const padataTypes: number[] = [];
  const out: { -readonly [K in keyof PaDataSummary]: PaDataSummary[K] } = {
    padataTypes,
    hasEncryptedTimestamp: false,
  };
  for (const item of ber.sequence(list, field)) {
    const f = ber.tagged(item, 'PA-DATA');
    const type = integer(ber, ber.required(f, 1, item, 'padata-type'), 'padata-type');
    padataTypes.push(type);
    const valueEl = ber.optional(f, 2, 'padata-value');
    // An empty value names a method without using it, as METHOD-DATA in KRB-ERROR does.
    if (!valueEl || valueEl.length === 0) continue;
    // The value is an OCTET STRING holding its own DER encoding: read it with offsets kept.
    const octets = ber.octets(
      ber.expect(valueEl, 'universal', universalTags.octetString, 'padata-value'),
      'padata-value',
    );
    const inner = new BerReader(
      octets,
      ber.reader.base + valueEl.contentOffset,
      ber.maxDepth - valueEl.depth,
    );
    const name = padataTypeNames[type] ?? `padata ${type}`;
    switch (type) {
      case PA_ENC_TIMESTAMP:
        out.hasEncryptedTimestamp = true;
        soft(diagnostics, () => {
          out.encTimestampEtype = readEncryptedData(inner, inner.root(name), name).etype;
        });
        break;
      case PA_PAC_REQUEST:
        // KERB-PA-PAC-REQUEST ::= SEQUENCE { include-pac [0] BOOLEAN } (MS-KILE §2.2.3)
        soft(diagnostics, () => {
          const seq = inner.root(name);
          out.pacRequest = inner.boolean(
            inner.required(inner.tagged(seq, name), 0, seq, 'include-pac'),
            'include-pac',
          );
        });
        break;
      case PA_ETYPE_INFO:
      case PA_ETYPE_INFO2:
        soft(diagnostics, () => {
          const entries = inner
            .sequence(inner.root(name), name)
            .map((e) => readEtypeInfoEntry(inner, e, name));
          if (type === PA_ETYPE_INFO) out.etypeInfo = entries;
          else out.etypeInfo2 = entries;
        });
        break;
      case PA_FOR_USER:
        // PA-FOR-USER ::= SEQUENCE { userName [0] PrincipalName, userRealm [1] Realm, … } (MS-SFU §2.2.1)
        soft(diagnostics, () => {
          const seq = inner.root(name);
          const u = inner.tagged(seq, name);
          out.forUser = {
            userName: readPrincipal(inner, inner.required(u, 0, seq, 'userName'), 'userName'),
            userRealm: kerberosString(inner, inner.required(u, 1, seq, 'userRealm'), 'userRealm'),
          };
        });
        break;
      case PA_TGS_REQ:
        soft(diagnostics, () => {
          const root = inner.root(name);
          inner.expect(root, 'application', 14, name, true);
          const apReq = readApReq(inner, root);
          out.tgt = apReq.ticket;
          out.tgsAuthenticator = apReq.authenticator;
        });
        break;
      default:
        break;
    }
  }
  return out;
}

function readEtypeInfoEntry(ber: BerReader, el: BerElement, field: string): EtypeInfoEntry {
  // ETYPE-INFO2-ENTRY ::= SEQUENCE { etype [0] Int32, salt [1] KerberosString OPTIONAL, s2kparams [2] … }
  // ETYPE-INFO-ENTRY has the same first two tags, with the salt as an OCTET STRING.
  const f = ber.tagged(el, field);
  const saltEl = ber.optional(f, 1, `${field} salt`);
  return {
    etype: integer(ber, ber.required(f, 0, el, `${field} etype`), `${field} etype`),
    ...(saltEl && { salt: ber.text(saltEl, `${field} salt`) }),
  };
}

/** Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] } */
function readTicket(ber: BerReader, el: BerElement): TicketSummary {
  ber.expect(el, 'application', 1, 'Ticket', true);
  const seq = ber.explicit(el, 'Ticket');
  const f = ber.tagged(seq, 'Ticket');
  return {
    tktVno: integer(ber, ber.required(f, 0, seq, 'tkt-vno'), 'tkt-vno'),
    realm: kerberosString(ber, ber.required(f, 1, seq, 'ticket realm'), 'ticket realm'),
    sname: readPrincipal(ber, ber.required(f, 2, seq, 'ticket sname'), 'ticket sname'),
    encPart: readEncryptedData(ber, ber.required(f, 3, seq, 'ticket enc-part'), 'ticket enc-part'),
  };
}

/** EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING } */
function readEncryptedData(ber: BerReader, el: BerElement, field: string): EncryptedDataSummary {
  const f = ber.tagged(el, field);
  const kvnoEl = ber.optional(f, 1, `${field} kvno`);
  const cipher = ber.required(f, 2, el, `${field} cipher`);
  return {
    etype: integer(ber, ber.required(f, 0, el, `${field} etype`), `${field} etype`),
    ...(kvnoEl && { kvno: integer(ber, kvnoEl, `${field} kvno`) }),
    ...cipherSummary(ber.octets(cipher, `${field} cipher`)),
  };
}

function cipherSummary(bytes: Uint8Array): { cipherLength: number; cipherHead: string } {
  let head = '';
  for (let i = 0; i < Math.min(16, bytes.length); i++)
    head += (bytes[i] as number).toString(16).padStart(2, '0');
  return { cipherLength: bytes.length, cipherHead: head };
}

/** PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString } */
function readPrincipal(ber: BerReader, el: BerElement, field: string): PrincipalName {
  const f = ber.tagged(el, field);
  return {
    nameType: integer(ber, ber.required(f, 0, el, `${field} name-type`), `${field} name-type`),
    nameString: ber
      .sequence(ber.required(f, 1, el, `${field} name-string`), `${field} name-string`)
      .map((s) => kerberosString(ber, s, `${field} name-string`)),
  };
}

/** HostAddress ::= SEQUENCE { addr-type [0] Int32, address [1] OCTET STRING } */
function readHostAddress(ber: BerReader, el: BerElement): HostAddress {
  const f = ber.tagged(el, 'HostAddress');
  const addrType = integer(ber, ber.required(f, 0, el, 'addr-type'), 'addr-type');
  const raw = ber.octets(ber.required(f, 1, el, 'address'), 'address');
  let address: string;
  if (addrType === 2 && raw.length === 4) address = Array.from(raw).join('.');
  else if (addrType === 24 && raw.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2)
      groups.push((((raw[i] as number) << 8) | (raw[i + 1] as number)).toString(16));
    address = groups.join(':');
  } else if (addrType === 20) address = new ByteReader(raw).latin1(0, raw.length, 'NetBIOS name').trimEnd();
  else address = Array.from(raw, (b) => b.toString(16).padStart(2, '0')).join('');
  return { addrType, address };
}

/** KerberosString is a GeneralString restricted to IA5 (RFC 4120 §5.2.1); Windows sends UTF-8. */
function kerberosString(ber: BerReader, el: BerElement, field: string): string {
  if (el.tagClass !== 'universal' || el.constructed)
    ber.expect(el, 'universal', universalTags.generalString, field, false);
  return ber.text(el, field);
}

function kerberosTime(ber: BerReader, el: BerElement, field: string): string {
  ber.expect(el, 'universal', universalTags.generalizedTime, field, false);
  return ber.generalizedTime(el, field);
}

function integer(ber: BerReader, el: BerElement, field: string): number {
  ber.expect(el, 'universal', universalTags.integer, field, false);
  return ber.integer(el, field);
}

/** Runs a read whose failure costs only that field: a warning instead of the whole message. */
function soft<T>(diagnostics: KerberosDiagnostic[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    diagnostics.push(toDiagnostic(error, 'warning', 0, 'kerberos/bad-padata'));
    return undefined;
  }
}

function toDiagnostic(
  error: unknown,
  severity: KerberosDiagnostic['severity'],
  fallbackOffset: number,
  fallbackCode: KerberosDiagnosticCode = 'kerberos/bad-value',
): KerberosDiagnostic {
  if (!(error instanceof ParseError)) throw error;
  let code: KerberosDiagnosticCode;
  if (error.code === 'binary/out-of-bounds' || error.code === 'asn1/truncated') code = 'kerberos/truncated';
  else if (error.code === 'asn1/too-deep') code = 'kerberos/too-deep';
  else if ((kerberosDiagnosticCodes as readonly string[]).includes(error.code))
    code = error.code as KerberosDiagnosticCode;
  else if (error.code.startsWith('asn1/'))
    code = severity === 'warning' ? fallbackCode : 'kerberos/bad-encoding';
  else code = fallbackCode;
  return { severity, code, message: error.message, offset: error.offset ?? fallbackOffset };
}

/** What one push to a TCP stream produced. */
export interface KerberosStreamResult {
  readonly messages: readonly KerberosMessage[];
  readonly diagnostics: readonly KerberosDiagnostic[];
}

/** Largest record accepted by default; Windows' MaxTokenSize is 48,000 bytes, so 1 MiB is generous. */
export const DEFAULT_MAX_KERBEROS_RECORD = 1 << 20;

/**
 * Splits one direction of a Kerberos-over-TCP connection (RFC 4120 §7.2.2: each message behind a
 * 4-byte big-endian length) into messages, whatever the segment boundaries. A length with the
 * reserved high bit or above `maxRecord` loses the framing: the buffered bytes are dropped.
 * @example const s = new KerberosTcpStream(); for (const seg of segments) s.push(seg).messages
 */
export class KerberosTcpStream {
  readonly #maxRecord: number;
  /** Buffered bytes: the start of the next record, possibly in several segments. */
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Bytes the next record needs in all, once its length is known: segments wait until then. */
  #needed = 0;
  /** Stream offset of the first buffered byte. */
  #offset = 0;

  constructor(maxRecord = DEFAULT_MAX_KERBEROS_RECORD) {
    this.#maxRecord = maxRecord;
  }

  push(chunk: Uint8Array): KerberosStreamResult {
    const messages: KerberosMessage[] = [];
    const diagnostics: KerberosDiagnostic[] = [];
    // Copied: the caller may reuse its buffer. Merged only once a whole record is there, so a
    // large record in many segments costs linear time.
    this.#chunks.push(chunk.slice());
    this.#buffered += chunk.length;
    if (this.#buffered < this.#needed) return { messages, diagnostics };
    const merged = concat(this.#chunks, this.#buffered);
    const view = new DataView(merged.buffer, merged.byteOffset, merged.byteLength);
    this.#needed = 0;
    let at = 0;
    while (merged.length - at >= 4) {
      const length = view.getUint32(at, false);
      if (length > this.#maxRecord || length === 0) {
        diagnostics.push({
          severity: 'error',
          code: 'kerberos/bad-record-length',
          message: `expected a record length 1–${this.#maxRecord}, found 0x${length.toString(16)} at 0x${(this.#offset + at).toString(16)}; dropping ${merged.length - at} buffered bytes`,
          offset: this.#offset + at,
        });
        at = merged.length;
        break;
      }
      if (merged.length - at - 4 < length) {
        this.#needed = 4 + length;
        break;
      }
      const result = decodeKerberosMessage(merged.subarray(at + 4, at + 4 + length), this.#offset + at + 4);
      if (result.value) messages.push(result.value);
      diagnostics.push(...result.diagnostics);
      at += 4 + length;
    }
    this.#chunks = at < merged.length ? [merged.subarray(at)] : [];
    this.#buffered = merged.length - at;
    this.#offset += at;
    return { messages, diagnostics };
  }

  /** Reports bytes left over when the connection closes mid-record. */
  end(): readonly KerberosDiagnostic[] {
    if (this.#buffered === 0) return [];
    const left = concat(this.#chunks, this.#buffered);
    const diagnostic: KerberosDiagnostic = {
      severity: 'error',
      code: 'kerberos/truncated',
      message: `expected a whole length-prefixed record, found ${left.length} bytes (${hexPreview(left, 0, 8)}) at the end of the stream`,
      offset: this.#offset,
    };
    this.#offset += left.length;
    this.#chunks = [];
    this.#buffered = 0;
    this.#needed = 0;
    return [diagnostic];
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]?.length === length) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
