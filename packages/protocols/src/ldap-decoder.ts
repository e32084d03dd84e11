// LDAPv3 messages (RFC 4511 §4): binds (simple, SASL, Sicily NTLM), searches with RFC 4515 filter
// text, results, entries; passwords and attribute values are never kept. `LdapTcpStream` splits a
// connection into messages and recognises SASL-wrapped (sealed) and TLS traffic without opening it.
import { hexPreview, ParseError } from '@palisade/binary';
import { type BerElement, BerReader, peekElementSize, universalTags } from './asn1-ber.ts';
import { decodeNtlmMessage, type NtlmMessage, startsWithNtlmssp } from './ntlm-decoder.ts';
import { classifyWrapToken, decodeGssToken, type GssDiagnostic, type GssToken } from './spnego-decoder.ts';

/** Every condition the LDAP decoder reports. */
export const ldapDiagnosticCodes = [
  'ldap/truncated',
  'ldap/bad-encoding',
  'ldap/too-deep',
  'ldap/bad-value',
  'ldap/bad-filter',
  'ldap/unknown-operation',
  'ldap/trailing-bytes',
  'ldap/message-too-large',
  'ldap/unrecognized-data',
] as const;

export type LdapDiagnosticCode = (typeof ldapDiagnosticCodes)[number];

/** A finding about one message; `error` means the message was not decoded. */
export interface LdapDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: LdapDiagnosticCode;
  readonly message: string;
  /** Byte offset in the message, or in the TCP stream for `LdapTcpStream`. */
  readonly offset: number;
}

/** protocolOp names by [APPLICATION n] tag (RFC 4511 §4.2–4.14, Appendix B). */
export const ldapOperationNames: Readonly<Record<number, string>> = {
  0: 'bindRequest',
  1: 'bindResponse',
  2: 'unbindRequest',
  3: 'searchRequest',
  4: 'searchResEntry',
  5: 'searchResDone',
  6: 'modifyRequest',
  7: 'modifyResponse',
  8: 'addRequest',
  9: 'addResponse',
  10: 'delRequest',
  11: 'delResponse',
  12: 'modDNRequest',
  13: 'modDNResponse',
  14: 'compareRequest',
  15: 'compareResponse',
  16: 'abandonRequest',
  19: 'searchResRef',
  23: 'extendedReq',
  24: 'extendedResp',
  25: 'intermediateResponse',
};

/** resultCode names (RFC 4511 §4.1.9, Appendix A). */
export const ldapResultNames: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'operationsError',
  2: 'protocolError',
  3: 'timeLimitExceeded',
  4: 'sizeLimitExceeded',
  5: 'compareFalse',
  6: 'compareTrue',
  7: 'authMethodNotSupported',
  8: 'strongerAuthRequired',
  10: 'referral',
  11: 'adminLimitExceeded',
  12: 'unavailableCriticalExtension',
  13: 'confidentialityRequired',
  14: 'saslBindInProgress',
  16: 'noSuchAttribute',
  17: 'undefinedAttributeType',
  18: 'inappropriateMatching',
  19: 'constraintViolation',
  20: 'attributeOrValueExists',
  21: 'invalidAttributeSyntax',
  32: 'noSuchObject',
  33: 'aliasProblem',
  34: 'invalidDNSyntax',
  36: 'aliasDereferencingProblem',
  48: 'inappropriateAuthentication',
  49: 'invalidCredentials',
  50: 'insufficientAccessRights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  54: 'loopDetect',
  64: 'namingViolation',
  65: 'objectClassViolation',
  66: 'notAllowedOnNonLeaf',
  67: 'notAllowedOnRDN',
  68: 'entryAlreadyExists',
  69: 'objectClassModsProhibited',
  71: 'affectsMultipleDSAs',
  80: 'other',
};

/** SearchRequest scope (RFC 4511 §4.5.1.2; subordinateSubtree from RFC 4512 drafts, as AD accepts). */
export const ldapScopeNames = ['baseObject', 'singleLevel', 'wholeSubtree', 'subordinateSubtree'] as const;
/** SearchRequest derefAliases (RFC 4511 §4.5.1.3). */
export const ldapDerefAliasesNames = [
  'neverDerefAliases',
  'derefInSearching',
  'derefFindingBaseObj',
  'derefAlways',
] as const;

/** LDAPResult (RFC 4511 §4.1.9). */
export interface LdapResult {
  readonly resultCode: number;
  readonly resultName: string;
  readonly matchedDN: string;
  /** Free text; Active Directory puts the Win32 error here (`… data 52e, v4563`). */
  readonly diagnosticMessage: string;
}

/** How a BindRequest authenticates (RFC 4511 §4.2; Sicily from MS-ADTS §5.1.1.1.1 and §5.1.1.1.3). */
export type LdapAuthentication =
  /** The password's length only: a zero length with a name is an unauthenticated bind. */
  | { readonly kind: 'simple'; readonly passwordLength: number }
  | {
      readonly kind: 'sasl';
      readonly mechanism: string;
      readonly credentialsLength?: number;
      /** GSS-SPNEGO and GSSAPI credentials, decoded; other mechanisms' are not kept. */
      readonly token?: GssToken;
    }
  | { readonly kind: 'sicilyPackageDiscovery' }
  | { readonly kind: 'sicilyNegotiate' | 'sicilyResponse'; readonly ntlm?: NtlmMessage }
  | { readonly kind: 'unknown'; readonly tag: number };

export interface LdapBindRequest {
  readonly kind: 'bindRequest';
  readonly version: number;
  readonly name: string;
  readonly authentication: LdapAuthentication;
}

export interface LdapBindResponse {
  readonly kind: 'bindResponse';
  readonly result: LdapResult;
  /** serverSaslCreds, decoded as a GSS token. */
  readonly serverSaslCreds?: GssToken;
  /** A Sicily CHALLENGE, sent as serverCreds where matchedDN would be (MS-ADTS §5.1.1.1.3). */
  readonly ntlm?: NtlmMessage;
}

export interface LdapSearchRequest {
  readonly kind: 'searchRequest';
  readonly baseObject: string;
  readonly scope: number;
  readonly derefAliases: number;
  readonly sizeLimit: number;
  readonly timeLimit: number;
  readonly typesOnly: boolean;
  /** The filter as RFC 4515 text: `(&(objectCategory=person)(servicePrincipalName=*))`. */
  readonly filter: string;
  readonly attributes: readonly string[];
}

export interface LdapSearchResultEntry {
  readonly kind: 'searchResEntry';
  readonly objectName: string;
  /** Each attribute's description and how many values it has; the values are not kept. */
  readonly attributes: readonly { readonly type: string; readonly valueCount: number }[];
}

export interface LdapResponse {
  readonly kind:
    | 'searchResDone'
    | 'modifyResponse'
    | 'addResponse'
    | 'delResponse'
    | 'modDNResponse'
    | 'compareResponse';
  readonly result: LdapResult;
}

/** Requests reported by name and target entry only. */
export interface LdapUpdateRequest {
  readonly kind: 'modifyRequest' | 'addRequest' | 'delRequest' | 'modDNRequest' | 'compareRequest';
  /** The DN of the entry the request changes or compares. */
  readonly entry: string;
}

export interface LdapExtendedRequest {
  readonly kind: 'extendedReq';
  /** 1.3.6.1.4.1.1466.20037 is StartTLS: what follows on the connection is TLS. */
  readonly requestName: string;
}

export interface LdapExtendedResponse {
  readonly kind: 'extendedResp';
  readonly result: LdapResult;
  readonly responseName?: string;
}

/** Operations reported by name only. */
export interface LdapOtherOperation {
  readonly kind: 'unbindRequest' | 'abandonRequest' | 'searchResRef' | 'intermediateResponse';
}

export type LdapProtocolOp =
  | LdapBindRequest
  | LdapBindResponse
  | LdapSearchRequest
  | LdapSearchResultEntry
  | LdapResponse
  | LdapUpdateRequest
  | LdapExtendedRequest
  | LdapExtendedResponse
  | LdapOtherOperation;

/** LDAPMessage (RFC 4511 §4.1.1). */
export interface LdapMessage {
  readonly messageID: number;
  readonly protocolOp: LdapProtocolOp;
  /** controlType of each control, in order. */
  readonly controls?: readonly string[];
}

export interface LdapDecodeResult {
  readonly value?: LdapMessage;
  readonly diagnostics: readonly (LdapDiagnostic | GssDiagnostic)[];
}

/** Where a message's diagnostics and those of the tokens inside it are collected. */
type Diagnostics = (LdapDiagnostic | GssDiagnostic)[];

const SICILY_PACKAGE_DISCOVERY = 9;
const SICILY_NEGOTIATE = 10;
const SICILY_RESPONSE = 11;
/** SASL mechanisms whose credentials are GSS-API tokens (RFC 4752, RFC 4178 via MS-ADTS §5.1.1.1.2). */
const GSS_MECHANISMS = new Set(['GSS-SPNEGO', 'GSSAPI']);

/**
 * Decodes one LDAPMessage (one BER element).
 * @example decodeLdapMessage(bytes).value?.protocolOp.kind // 'searchRequest'
 */
export function decodeLdapMessage(bytes: Uint8Array, base = 0): LdapDecodeResult {
  const diagnostics: Diagnostics = [];
  try {
    const ber = new BerReader(bytes, base);
    const root = ber.expect(
      ber.root('LDAPMessage'),
      'universal',
      universalTags.sequence,
      'LDAPMessage',
      true,
    );
    const value = readMessage(ber, root, diagnostics);
    if (root.end < bytes.length) {
      diagnostics.push({
        severity: 'warning',
        code: 'ldap/trailing-bytes',
        message: `expected the message to end at 0x${(base + root.end).toString(16)}, found ${bytes.length - root.end} more bytes`,
        offset: base + root.end,
      });
    }
    return { value, diagnostics };
  } catch (error) {
    diagnostics.push(toDiagnostic(error, base));
    return { diagnostics };
  }
}

function readMessage(ber: BerReader, root: BerElement, diagnostics: Diagnostics): LdapMessage {
  const [idEl, opEl, ...rest] = ber.children(root, 'LDAPMessage');
  if (!idEl || !opEl) throw badValue(ber, root, 'LDAPMessage', 'messageID and protocolOp', 'fewer elements');
  const messageID = ber.integer(
    ber.expect(idEl, 'universal', universalTags.integer, 'messageID'),
    'messageID',
  );
  if (opEl.tagClass !== 'application')
    throw badValue(
      ber,
      opEl,
      'protocolOp',
      'an [APPLICATION n] operation',
      hexPreview(ber.bytes, opEl.offset, 2),
    );
  const controlsEl = rest.find((el) => el.tagClass === 'context' && el.tagNumber === 0);
  return {
    messageID,
    protocolOp: readOperation(ber, opEl, diagnostics),
    ...(controlsEl && {
      controls: ber.children(controlsEl, 'controls').map((c) => {
        const [type] = ber.sequence(c, 'Control');
        if (!type) throw badValue(ber, c, 'Control', 'a controlType', 'an empty SEQUENCE');
        return ber.text(type, 'controlType');
      }),
    }),
  };
}

/** Operations that are an LDAPResult and nothing more, by tag. */
const resultOperations: Readonly<Record<number, LdapResponse['kind']>> = {
  5: 'searchResDone',
  7: 'modifyResponse',
  9: 'addResponse',
  11: 'delResponse',
  13: 'modDNResponse',
  15: 'compareResponse',
};

function readOperation(ber: BerReader, op: BerElement, diagnostics: Diagnostics): LdapProtocolOp {
  const resultKind = resultOperations[op.tagNumber];
  if (resultKind) return { kind: resultKind, result: readResult(ber, ber.children(op, resultKind)) };
  switch (op.tagNumber) {
    case 0:
      return readBindRequest(ber, op, diagnostics);
    case 1:
      return readBindResponse(ber, op, diagnostics);
    case 2:
      return { kind: 'unbindRequest' };
    case 3:
      return readSearchRequest(ber, op);
    case 4:
      return readSearchResultEntry(ber, op);
    case 6:
    case 8:
    case 12:
    case 14: {
      // Each starts with the DN of its entry: object, entry, entry, entry (RFC 4511 §4.6–4.10).
      const kind = ldapOperationNames[op.tagNumber] as LdapUpdateRequest['kind'];
      const [dn] = ber.children(op, kind);
      if (!dn) throw badValue(ber, op, kind, 'the DN of an entry', 'an empty operation');
      return { kind, entry: ber.text(dn, `${kind} entry`) };
    }
    case 10:
      // DelRequest ::= [APPLICATION 10] LDAPDN: the DN is the content itself.
      return { kind: 'delRequest', entry: ber.text(op, 'delRequest entry') };
    case 16:
      return { kind: 'abandonRequest' };
    case 19:
      return { kind: 'searchResRef' };
    case 23: {
      // ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID, requestValue [1] OPTIONAL }
      const nameEl = ber
        .children(op, 'extendedReq')
        .find((el) => el.tagClass === 'context' && el.tagNumber === 0);
      if (!nameEl) throw badValue(ber, op, 'extendedReq', 'a requestName [0]', 'none');
      return { kind: 'extendedReq', requestName: ber.text(nameEl, 'requestName') };
    }
    case 24: {
      const items = ber.children(op, 'extendedResp');
      const nameEl = items.find((el) => el.tagClass === 'context' && el.tagNumber === 10);
      return {
        kind: 'extendedResp',
        result: readResult(ber, items),
        ...(nameEl && { responseName: ber.text(nameEl, 'responseName') }),
      };
    }
    case 25:
      return { kind: 'intermediateResponse' };
    default:
      throw new ParseError<LdapDiagnosticCode>({
        code: 'ldap/unknown-operation',
        offset: ber.reader.base + op.offset,
        field: 'protocolOp',
        expected: 'an LDAP operation (RFC 4511 [APPLICATION 0–25])',
        found: `[APPLICATION ${op.tagNumber}]`,
      });
  }
}

function readBindRequest(ber: BerReader, op: BerElement, diagnostics: Diagnostics): LdapBindRequest {
  // BindRequest ::= [APPLICATION 0] SEQUENCE { version, name LDAPDN, authentication AuthenticationChoice }
  const [versionEl, nameEl, authEl] = ber.children(op, 'bindRequest');
  if (!versionEl || !nameEl || !authEl)
    throw badValue(ber, op, 'bindRequest', 'version, name and authentication', 'fewer elements');
  return {
    kind: 'bindRequest',
    version: ber.integer(versionEl, 'version'),
    name: ber.text(nameEl, 'name'),
    authentication: readAuthentication(ber, authEl, diagnostics),
  };
}

function readAuthentication(ber: BerReader, el: BerElement, diagnostics: Diagnostics): LdapAuthentication {
  if (el.tagClass !== 'context') return { kind: 'unknown', tag: el.tagNumber };
  switch (el.tagNumber) {
    case 0:
      // The password is measured and dropped here: nothing downstream ever sees it.
      return { kind: 'simple', passwordLength: ber.octets(el, 'simple').length };
    case 3: {
      // SaslCredentials ::= SEQUENCE { mechanism LDAPString, credentials OCTET STRING OPTIONAL }
      const [mechEl, credEl] = ber.children(el, 'sasl');
      if (!mechEl) throw badValue(ber, el, 'sasl', 'a mechanism', 'an empty SaslCredentials');
      const mechanism = ber.text(mechEl, 'mechanism');
      if (!credEl) return { kind: 'sasl', mechanism };
      const credentials = ber.octets(credEl, 'credentials');
      const token =
        GSS_MECHANISMS.has(mechanism.toUpperCase()) && credentials.length > 0
          ? gssToken(credentials, ber.reader.base + credEl.contentOffset, diagnostics)
          : undefined;
      return { kind: 'sasl', mechanism, credentialsLength: credentials.length, ...(token && { token }) };
    }
    case SICILY_PACKAGE_DISCOVERY:
      return { kind: 'sicilyPackageDiscovery' };
    case SICILY_NEGOTIATE:
    case SICILY_RESPONSE: {
      const kind = el.tagNumber === SICILY_NEGOTIATE ? 'sicilyNegotiate' : 'sicilyResponse';
      const ntlm = ntlmMessage(ber.octets(el, kind), ber.reader.base + el.contentOffset, diagnostics);
      return { kind, ...(ntlm && { ntlm }) };
    }
    default:
      return { kind: 'unknown', tag: el.tagNumber };
  }
}

function readBindResponse(ber: BerReader, op: BerElement, diagnostics: Diagnostics): LdapBindResponse {
  // BindResponse ::= [APPLICATION 1] SEQUENCE { COMPONENTS OF LDAPResult, serverSaslCreds [7] OPTIONAL }
  const items = ber.children(op, 'bindResponse');
  const matchedEl = items[1];
  const ntlm =
    matchedEl && !matchedEl.constructed && startsWithNtlmssp(ber.octets(matchedEl, 'matchedDN'))
      ? ntlmMessage(
          ber.octets(matchedEl, 'matchedDN'),
          ber.reader.base + matchedEl.contentOffset,
          diagnostics,
        )
      : undefined;
  const result = readResult(ber, items);
  const credsEl = items.find((el) => el.tagClass === 'context' && el.tagNumber === 7);
  const creds = credsEl ? ber.octets(credsEl, 'serverSaslCreds') : undefined;
  const serverSaslCreds =
    credsEl && creds && creds.length > 0
      ? gssToken(creds, ber.reader.base + credsEl.contentOffset, diagnostics)
      : undefined;
  return {
    kind: 'bindResponse',
    // serverCreds of a SicilyBindResponse is binary, not a DN.
    result: ntlm ? { ...result, matchedDN: '' } : result,
    ...(serverSaslCreds && { serverSaslCreds }),
    ...(ntlm && { ntlm }),
  };
}

/** LDAPResult ::= SEQUENCE { resultCode ENUMERATED, matchedDN, diagnosticMessage, referral [3] OPTIONAL } */
function readResult(ber: BerReader, items: BerElement[]): LdapResult {
  const [codeEl, matchedEl, messageEl] = items;
  if (!codeEl || !matchedEl || !messageEl) {
    const at = codeEl ?? matchedEl ?? messageEl;
    throw new ParseError<LdapDiagnosticCode>({
      code: 'ldap/bad-value',
      offset: ber.reader.base + (at?.offset ?? 0),
      field: 'LDAPResult',
      expected: 'resultCode, matchedDN and diagnosticMessage',
      found: `${items.length} elements`,
    });
  }
  const resultCode = ber.integer(
    ber.expect(codeEl, 'universal', universalTags.enumerated, 'resultCode'),
    'resultCode',
  );
  return {
    resultCode,
    resultName: ldapResultNames[resultCode] ?? `resultCode ${resultCode}`,
    matchedDN: ber.text(matchedEl, 'matchedDN'),
    diagnosticMessage: ber.text(messageEl, 'diagnosticMessage'),
  };
}

function readSearchRequest(ber: BerReader, op: BerElement): LdapSearchRequest {
  // SearchRequest ::= [APPLICATION 3] SEQUENCE { baseObject, scope, derefAliases, sizeLimit,
  //   timeLimit, typesOnly, filter, attributes }
  const [baseEl, scopeEl, derefEl, sizeEl, timeEl, typesEl, filterEl, attrsEl] = ber.children(
    op,
    'searchRequest',
  );
  if (!baseEl || !scopeEl || !derefEl || !sizeEl || !timeEl || !typesEl || !filterEl || !attrsEl)
    throw badValue(ber, op, 'searchRequest', 'eight components', 'fewer');
  return {
    kind: 'searchRequest',
    baseObject: ber.text(baseEl, 'baseObject'),
    scope: ber.integer(scopeEl, 'scope'),
    derefAliases: ber.integer(derefEl, 'derefAliases'),
    sizeLimit: ber.integer(sizeEl, 'sizeLimit'),
    timeLimit: ber.integer(timeEl, 'timeLimit'),
    typesOnly: ber.boolean(typesEl, 'typesOnly'),
    filter: renderFilter(ber, filterEl),
    attributes: ber.sequence(attrsEl, 'attributes').map((a) => ber.text(a, 'attribute')),
  };
}

function readSearchResultEntry(ber: BerReader, op: BerElement): LdapSearchResultEntry {
  // SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName LDAPDN, attributes PartialAttributeList }
  const [nameEl, attrsEl] = ber.children(op, 'searchResEntry');
  if (!nameEl || !attrsEl)
    throw badValue(ber, op, 'searchResEntry', 'objectName and attributes', 'fewer elements');
  return {
    kind: 'searchResEntry',
    objectName: ber.text(nameEl, 'objectName'),
    attributes: ber.sequence(attrsEl, 'attributes').map((a) => {
      // PartialAttribute ::= SEQUENCE { type AttributeDescription, vals SET OF value }
      const [typeEl, valsEl] = ber.sequence(a, 'PartialAttribute');
      if (!typeEl || !valsEl) throw badValue(ber, a, 'PartialAttribute', 'type and vals', 'fewer elements');
      return { type: ber.text(typeEl, 'type'), valueCount: ber.children(valsEl, 'vals').length };
    }),
  };
}

/**
 * Renders a Filter (RFC 4511 §4.5.1.7) as RFC 4515 text. Values are escaped per RFC 4515 §3
 * (`*`, `(`, `)`, `\`, NUL, and bytes that are not UTF-8), and control characters too so the
 * text is safe to log. Nesting is bounded by the BER reader's depth limit.
 */
function renderFilter(ber: BerReader, el: BerElement): string {
  if (el.tagClass !== 'context') throw badFilter(ber, el);
  const field = 'filter';
  switch (el.tagNumber) {
    case 0:
    case 1:
      return `(${el.tagNumber === 0 ? '&' : '|'}${ber
        .children(el, field)
        .map((f) => renderFilter(ber, f))
        .join('')})`;
    case 2:
      return `(!${renderFilter(ber, ber.explicit(el, 'not'))})`;
    case 3:
    case 5:
    case 6:
    case 8: {
      // AttributeValueAssertion ::= SEQUENCE { attributeDesc, assertionValue }
      const [attr, value] = ber.children(el, field);
      if (!attr || !value) throw badFilter(ber, el);
      const op = el.tagNumber === 3 ? '=' : el.tagNumber === 5 ? '>=' : el.tagNumber === 6 ? '<=' : '~=';
      return `(${escapeFilterValue(ber.octets(attr, field))}${op}${escapeFilterValue(ber.octets(value, field))})`;
    }
    case 4: {
      // SubstringFilter ::= { type, substrings SEQUENCE OF CHOICE { initial [0], any [1], final [2] } }
      const [attr, list] = ber.children(el, field);
      if (!attr || !list) throw badFilter(ber, el);
      let initial = '';
      let final = '';
      const any: string[] = [];
      for (const part of ber.sequence(list, 'substrings')) {
        const text = escapeFilterValue(ber.octets(part, 'substring'));
        if (part.tagClass !== 'context' || part.tagNumber > 2) throw badFilter(ber, part);
        if (part.tagNumber === 0) initial = text;
        else if (part.tagNumber === 1) any.push(text);
        else final = text;
      }
      return `(${escapeFilterValue(ber.octets(attr, field))}=${initial}*${any.map((a) => `${a}*`).join('')}${final})`;
    }
    case 7:
      return `(${escapeFilterValue(ber.octets(el, 'present'))}=*)`;
    case 9: {
      // MatchingRuleAssertion ::= SEQUENCE { matchingRule [1] OPTIONAL, type [2] OPTIONAL,
      //   matchValue [3], dnAttributes [4] BOOLEAN DEFAULT FALSE }
      const f = ber.tagged(el, 'extensibleMatch');
      const rule = f.get(1);
      const type = f.get(2);
      const value = f.get(3);
      const dn = f.get(4);
      if (!value) throw badFilter(ber, el);
      return `(${type ? escapeFilterValue(ber.octets(type, 'type')) : ''}${dn && ber.boolean(dn, 'dnAttributes') ? ':dn' : ''}${
        rule ? `:${escapeFilterValue(ber.octets(rule, 'matchingRule'))}` : ''
      }:=${escapeFilterValue(ber.octets(value, 'matchValue'))})`;
    }
    default:
      throw badFilter(ber, el);
  }
}

const hexDigits = '0123456789abcdef';
const utf8 = new TextDecoder('utf-8');

/**
 * Escapes an assertion value for RFC 4515 text: `*()\` and NUL always, control characters and
 * bytes that are not well-formed UTF-8 as `\xx`; other UTF-8 stays as it is.
 * @example escapeFilterValue(new TextEncoder().encode('a*b')) // 'a\\2ab'
 */
export function escapeFilterValue(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    const length = utf8SequenceLength(bytes, i);
    if (length === 0 || b < 0x20 || b === 0x7f || b === 0x2a || b === 0x28 || b === 0x29 || b === 0x5c) {
      out += `\\${hexDigits[b >> 4]}${hexDigits[b & 0xf]}`;
      i += 1;
    } else {
      out += length === 1 ? String.fromCharCode(b) : utf8.decode(bytes.subarray(i, i + length));
      i += length;
    }
  }
  return out;
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629 §4), or 0 if there is none. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  if (b < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const c = bytes[i + k];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function gssToken(bytes: Uint8Array, base: number, diagnostics: Diagnostics): GssToken | undefined {
  const result = decodeGssToken(bytes, base);
  diagnostics.push(...result.diagnostics);
  return result.value;
}

function ntlmMessage(bytes: Uint8Array, base: number, diagnostics: Diagnostics): NtlmMessage | undefined {
  const result = decodeNtlmMessage(bytes, base);
  diagnostics.push(...result.diagnostics);
  return result.value;
}

function badValue(
  ber: BerReader,
  el: BerElement,
  field: string,
  expected: string,
  found: string,
): ParseError {
  return new ParseError<LdapDiagnosticCode>({
    code: 'ldap/bad-value',
    offset: ber.reader.base + el.offset,
    field,
    expected,
    found,
  });
}

function badFilter(ber: BerReader, el: BerElement): ParseError {
  return new ParseError<LdapDiagnosticCode>({
    code: 'ldap/bad-filter',
    offset: ber.reader.base + el.offset,
    field: 'filter',
    expected: 'a Filter choice [0]–[9] (RFC 4511 §4.5.1.7)',
    found: hexPreview(ber.bytes, el.offset, 4),
  });
}

function toDiagnostic(error: unknown, fallbackOffset: number): LdapDiagnostic {
  if (!(error instanceof ParseError)) throw error;
  let code: LdapDiagnosticCode;
  if (error.code === 'binary/out-of-bounds' || error.code === 'asn1/truncated') code = 'ldap/truncated';
  else if (error.code === 'asn1/too-deep') code = 'ldap/too-deep';
  else if ((ldapDiagnosticCodes as readonly string[]).includes(error.code))
    code = error.code as LdapDiagnosticCode;
  else if (error.code.startsWith('asn1/')) code = 'ldap/bad-encoding';
  else code = 'ldap/bad-value';
  return { severity: 'error', code, message: error.message, offset: error.offset ?? fallbackOffset };
}

/** One unit of an LDAP connection: a message, or a SASL-wrapped or TLS record left closed. */
export type LdapPdu =
  | { readonly kind: 'message'; readonly offset: number; readonly message: LdapMessage }
  | {
      readonly kind: 'sealed';
      readonly offset: number;
      /** The SASL buffer length (RFC 4422 §3.7): the wrap token and the protected data. */
      readonly length: number;
      readonly mechanism: 'kerberos' | 'ntlmssp';
    }
  | { readonly kind: 'tls'; readonly offset: number; readonly length: number };

/** What one push to a TCP stream produced. */
export interface LdapStreamResult {
  readonly pdus: readonly LdapPdu[];
  readonly diagnostics: readonly (LdapDiagnostic | GssDiagnostic)[];
}

/** Largest PDU accepted by default (Active Directory's MaxReceiveBuffer is 10 MB). */
export const DEFAULT_MAX_LDAP_PDU = 16 << 20;

/** A sealed or TLS PDU whose end has not arrived yet: its bytes are not needed, only its end. */
interface Skipping {
  readonly pdu: Exclude<LdapPdu, { kind: 'message' }>;
  left: number;
}

/** What `#next` found at the head of the buffer. */
type Step =
  | { readonly kind: 'message'; readonly size: number }
  | { readonly kind: 'closed'; readonly size: number; readonly pdu: Exclude<LdapPdu, { kind: 'message' }> }
  | { readonly kind: 'need-more'; readonly size?: number }
  | { readonly kind: 'lost' };

/** Bytes of a SASL buffer's wrap token read to tell its mechanism. */
const WRAP_TOKEN_PEEK = 64;

/**
 * Splits one direction of an LDAP connection into messages, whatever the segment boundaries.
 * After a SASL bind with integrity or confidentiality (GSS-SPNEGO, GSSAPI), each PDU is a 4-byte
 * length and a wrap token (RFC 4422 §3.7, RFC 4752 §3.3): reported as `sealed` and skipped, as
 * are TLS records after StartTLS. A message's first byte is 0x30, a SASL buffer's 0x00 (below
 * 16 MiB), a TLS record's 0x14–0x17: the three never collide. Unrecognised bytes lose the
 * framing: the buffer is dropped and reading resumes at the next segment.
 * @example const s = new LdapTcpStream(); for (const seg of segments) s.push(seg).pdus
 */
export class LdapTcpStream {
  readonly #maxPdu: number;
  /** Buffered bytes: the start of the next PDU, possibly in several segments. */
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Bytes the next message needs in all, once its length is known: segments wait until then. */
  #needed = 0;
  /** Stream offset of the first buffered byte (or of the next byte, while skipping). */
  #offset = 0;
  #skipping: Skipping | undefined;

  constructor(maxPdu = DEFAULT_MAX_LDAP_PDU) {
    this.#maxPdu = maxPdu;
  }

  push(chunk: Uint8Array): LdapStreamResult {
    const pdus: LdapPdu[] = [];
    const diagnostics: Diagnostics = [];
    let data = chunk;
    if (this.#skipping) {
      const skip = Math.min(this.#skipping.left, data.length);
      this.#skipping.left -= skip;
      this.#offset += skip;
      data = data.subarray(skip);
      if (this.#skipping.left > 0) return { pdus, diagnostics };
      pdus.push(this.#skipping.pdu);
      this.#skipping = undefined;
    }
    // Copied: the caller may reuse its buffer. Merged only once a whole message is there, so a
    // large message in many segments costs linear time.
    if (data.length > 0) this.#chunks.push(data.slice());
    this.#buffered += data.length;
    if (this.#buffered < this.#needed || this.#buffered === 0) return { pdus, diagnostics };
    const merged = concat(this.#chunks, this.#buffered);
    this.#needed = 0;
    let at = 0;
    while (at < merged.length) {
      const step = this.#next(merged, at, this.#offset + at, pdus, diagnostics);
      if (step.kind === 'need-more') {
        this.#needed = step.size ?? 0;
        break;
      }
      if (step.kind === 'lost') {
        at = merged.length;
        break;
      }
      if (step.kind === 'closed' && step.size > merged.length - at) {
        this.#skipping = { pdu: step.pdu, left: step.size - (merged.length - at) };
        at = merged.length;
        break;
      }
      if (step.kind === 'closed') pdus.push(step.pdu);
      at += step.size;
    }
    this.#chunks = at < merged.length ? [merged.subarray(at)] : [];
    this.#buffered = merged.length - at;
    this.#offset += at;
    return { pdus, diagnostics };
  }

  /** Reports a PDU cut off when the connection closes. */
  end(): readonly LdapDiagnostic[] {
    const buffered = concat(this.#chunks, this.#buffered);
    const left = buffered.length + (this.#skipping?.left ?? 0);
    const what = this.#skipping ? `the rest of a ${this.#skipping.pdu.kind} PDU` : 'a whole LDAPMessage';
    const offset = this.#skipping?.pdu.offset ?? this.#offset;
    this.#skipping = undefined;
    this.#offset += buffered.length;
    this.#chunks = [];
    this.#buffered = 0;
    this.#needed = 0;
    if (left === 0) return [];
    return [
      {
        severity: 'error',
        code: 'ldap/truncated',
        message: `expected ${what}, found the stream ending ${left} bytes short of it (${hexPreview(buffered, 0, 8)})`,
        offset,
      },
    ];
  }

  #next(
    bytes: Uint8Array,
    at: number,
    streamOffset: number,
    pdus: LdapPdu[],
    diagnostics: Diagnostics,
  ): Step {
    const first = bytes[at] as number;
    const available = bytes.length - at;
    const lost = (code: LdapDiagnosticCode, message: string): Step => {
      diagnostics.push({
        severity: 'error',
        code,
        message: `${message}; dropping ${available} buffered bytes`,
        offset: streamOffset,
      });
      return { kind: 'lost' };
    };
    if (first === 0x30) {
      let size: ReturnType<typeof peekElementSize>;
      try {
        size = peekElementSize(bytes, at, streamOffset - at);
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
        return lost('ldap/bad-encoding', error.message);
      }
      if (size.kind === 'need-more') return size;
      if (size.totalLength > this.#maxPdu)
        return lost(
          'ldap/message-too-large',
          `expected an LDAPMessage of at most ${this.#maxPdu} bytes, found ${size.totalLength} at 0x${streamOffset.toString(16)}`,
        );
      if (available < size.totalLength) return { kind: 'need-more', size: size.totalLength };
      const result = decodeLdapMessage(bytes.subarray(at, at + size.totalLength), streamOffset);
      if (result.value) pdus.push({ kind: 'message', offset: streamOffset, message: result.value });
      diagnostics.push(...result.diagnostics);
      return { kind: 'message', size: size.totalLength };
    }
    if (first >= 0x14 && first <= 0x17) {
      // A TLS record: content type, version 3.x, 2-byte length (RFC 8446 §5.1).
      if (available < 5) return { kind: 'need-more' };
      if (bytes[at + 1] === 0x03) {
        const length = 5 + (((bytes[at + 3] as number) << 8) | (bytes[at + 4] as number));
        return { kind: 'closed', size: length, pdu: { kind: 'tls', offset: streamOffset, length } };
      }
    }
    if (first === 0x00) {
      // A SASL buffer: 4-byte length, then the mechanism's wrap token and the protected data.
      if (available < 4) return { kind: 'need-more' };
      const length = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, false);
      const peek = Math.min(length, WRAP_TOKEN_PEEK);
      if (length <= this.#maxPdu && length >= 16) {
        if (available < 4 + peek) return { kind: 'need-more', size: 4 + peek };
        const mechanism = classifyWrapToken(bytes.subarray(at + 4, at + 4 + peek));
        if (mechanism)
          return {
            kind: 'closed',
            size: 4 + length,
            pdu: { kind: 'sealed', offset: streamOffset, length, mechanism },
          };
      }
    }
    return lost(
      'ldap/unrecognized-data',
      `expected an LDAPMessage (30 …), a SASL buffer or a TLS record, found ${hexPreview(bytes, at, 8)} at 0x${streamOffset.toString(16)}`,
    );
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
