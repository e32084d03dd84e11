// SRVSVC NetrSessionEnum requests seen on the wire (MS-SRVS over \PIPE\srvsvc): SMB session
// enumeration, which lists who is connected to a server from where — the user and IP address
// reconnaissance of BloodHound's session collection, netview.py and `net session`.
import type { DcerpcCall } from '@palisade/protocols';
import { readStub } from './network-ndr.ts';

export const SRVSVC_UUID = '4b324fc8-1670-01d3-1278-5a47bf6ee188';

const NETR_SESSION_ENUM = 12;

export interface SessionEnumRequest {
  readonly method: string;
  /** The information level asked for: 0, 1, 2, 10 or 502 (MS-SRVS §2.2.4.17). */
  readonly level?: number | undefined;
  /** The client filter: only sessions from this computer (`\\host`). */
  readonly clientName?: string | undefined;
  /** The user filter: only sessions of this user. */
  readonly userName?: string | undefined;
  readonly problem?: string | undefined;
}

/** What a NetrSessionEnum request asks for, or undefined for other SRVSVC calls. */
export function sessionEnumRequest(call: DcerpcCall): SessionEnumRequest | undefined {
  if (call.type !== 'request' || call.opnum !== NETR_SESSION_ENUM) return undefined;
  const method = call.opnumName ?? 'NetrSessionEnum';
  if (call.stubEncrypted) return { method };
  // MS-SRVS §3.1.4.5: [in, string, unique] SRVSVC_HANDLE ServerName, [in, string, unique] WCHAR*
  // ClientName, [in, string, unique] WCHAR* UserName, [in, out] PSESSION_ENUM_STRUCT InfoStruct
  // { DWORD Level; the union of container pointers }, …
  const { value, problem } = readStub<SessionEnumRequest>(call.stub, (r, out) => {
    r.uniqueString('ServerName');
    out.clientName = r.uniqueString('ClientName');
    out.userName = r.uniqueString('UserName');
    r.alignPointerStruct();
    out.level = r.u32('Level');
  });
  return { ...value, method, problem };
}
