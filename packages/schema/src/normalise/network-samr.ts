// SAM-R requests seen on the wire (MS-SAMR over \PIPE\samr or TCP) → what IdentityQueryEvents
// says about them: the query type and, where the request names it, the target. Only the calls
// that read the directory count as queries; handles, closes and writes do not.
import type { DcerpcCall } from '@palisade/protocols';

export const SAMR_UUID = '12345778-1234-abcd-ef00-0123456789ac';

/** QueryType by SAM-R opnum (MS-SAMR §3.1.5) for the calls that read users, groups and domains. */
const queryTypes: Readonly<Record<number, string>> = {
  5: 'LookupDomain',
  6: 'EnumerateDomains',
  7: 'QueryDomain',
  8: 'QueryDomain',
  11: 'EnumerateGroups',
  13: 'EnumerateUsers',
  15: 'EnumerateAliases',
  16: 'QueryAliasMembership',
  17: 'LookupNames',
  18: 'LookupIds',
  19: 'QueryGroup',
  20: 'QueryGroup',
  25: 'QueryGroupMembers',
  27: 'QueryAlias',
  28: 'QueryAlias',
  33: 'QueryAliasMembers',
  34: 'QueryUser',
  36: 'QueryUser',
  39: 'QueryUserGroups',
  40: 'EnumerateDisplayInformation',
  46: 'QueryDomain',
  47: 'QueryUser',
  48: 'EnumerateDisplayInformation',
  51: 'EnumerateDisplayInformation',
};

/** Well-known relative ids (MS-DTYP §2.4.2.4) of users and groups in a domain. */
const domainRids: Readonly<Record<number, string>> = {
  498: 'Enterprise Read-only Domain Controllers',
  500: 'Administrator',
  501: 'Guest',
  502: 'krbtgt',
  512: 'Domain Admins',
  513: 'Domain Users',
  514: 'Domain Guests',
  515: 'Domain Computers',
  516: 'Domain Controllers',
  517: 'Cert Publishers',
  518: 'Schema Admins',
  519: 'Enterprise Admins',
  520: 'Group Policy Creator Owners',
  521: 'Read-only Domain Controllers',
  522: 'Cloneable Domain Controllers',
  525: 'Protected Users',
  526: 'Key Admins',
  527: 'Enterprise Key Admins',
};

/** Well-known aliases of the BUILTIN domain (MS-DTYP §2.4.2.4). */
const builtinRids: Readonly<Record<number, string>> = {
  544: 'Administrators',
  545: 'Users',
  546: 'Guests',
  547: 'Power Users',
  548: 'Account Operators',
  549: 'Server Operators',
  550: 'Print Operators',
  551: 'Backup Operators',
  552: 'Replicator',
};

const OPEN_GROUP = 19;
const OPEN_ALIAS = 27;
const OPEN_USER = 34;
const LOOKUP_NAMES = 17;
/** A context handle on the wire: 4-byte attributes and a 16-byte GUID (MS-RPCE §2.2.2.13 / C706). */
const HANDLE = 20;
/** SamrLookupNamesInDomain accepts at most 1000 names (MS-SAMR §3.1.5.11.2). */
const MAX_NAMES = 1000;
const utf16 = new TextDecoder('utf-16le');

export interface SamrQuery {
  readonly queryType: string;
  readonly method: string;
  /** The account or group asked about, by name where the request or a well-known id gives it. */
  readonly target?: string;
  /** The relative id asked about, for the open calls. */
  readonly rid?: number;
  /** The names asked about, for SamrLookupNamesInDomain. */
  readonly names?: readonly string[];
}

/** What a SAM-R request asks, or undefined for calls that are not queries. */
export function samrQuery(call: DcerpcCall): SamrQuery | undefined {
  if (call.type !== 'request' || call.opnum === undefined) return undefined;
  const queryType = queryTypes[call.opnum];
  if (!queryType) return undefined;
  const method = call.opnumName ?? `SAM-R opnum ${call.opnum}`;
  if (call.stubEncrypted) return { queryType, method };
  const stub = call.stub;
  if (call.opnum === OPEN_GROUP || call.opnum === OPEN_ALIAS || call.opnum === OPEN_USER) {
    // [in] handle, [in] unsigned long DesiredAccess, [in] unsigned long Id.
    if (stub.length < HANDLE + 8) return { queryType, method };
    const rid = new DataView(stub.buffer, stub.byteOffset, stub.length).getUint32(HANDLE + 4, true);
    const known = call.opnum === OPEN_ALIAS ? builtinRids[rid] : domainRids[rid];
    return { queryType, method, rid, target: known ?? `RID ${rid}` };
  }
  if (call.opnum === LOOKUP_NAMES) {
    const names = lookupNames(stub);
    return names?.length ? { queryType, method, names, target: names.join(', ') } : { queryType, method };
  }
  return { queryType, method };
}

// SamrLookupNamesInDomain: [in] handle, [in] unsigned long Count, [in, size_is(1000),
// length_is(Count)] RPC_UNICODE_STRING Names[*] — a conformant varying array of
// { u16 Length, u16 MaximumLength, ptr Buffer } whose buffers follow, each a conformant
// varying array of UTF-16 characters aligned to 4 (NDR, C706 §14).
function lookupNames(stub: Uint8Array): string[] | undefined {
  const view = new DataView(stub.buffer, stub.byteOffset, stub.length);
  let at = HANDLE;
  const u32 = () => {
    if (at + 4 > stub.length) throw new RangeError('short');
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  try {
    const count = u32();
    u32(); // maximum count (1000)
    u32(); // offset
    const actual = u32();
    if (actual !== count || count > MAX_NAMES) return undefined;
    const lengths: number[] = [];
    const present: boolean[] = [];
    for (let i = 0; i < count; i++) {
      const v = u32();
      lengths.push(v & 0xffff);
      present.push(u32() !== 0);
    }
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      if (!present[i]) continue;
      u32(); // maximum count
      const offset = u32();
      const chars = u32();
      if (offset !== 0 || chars * 2 < (lengths[i] ?? 0) || at + chars * 2 > stub.length) return names;
      const length = Math.min(chars * 2, lengths[i] ?? 0);
      names.push(utf16.decode(stub.subarray(at, at + length)));
      at += chars * 2;
      at = (at + 3) & ~3;
    }
    return names;
  } catch {
    return undefined;
  }
}
