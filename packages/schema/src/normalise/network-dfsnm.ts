// DFSNM requests seen on the wire (MS-DFSNM over \PIPE\netdfs) that add or remove a standalone
// DFS root: the server contacts the host named in ServerName as its machine account, which
// DFSCoerce uses to coerce a DC into NTLM relay.
import type { DcerpcCall } from '@palisade/protocols';
import { readStub } from './network-ndr.ts';

export const DFSNM_UUID = '4fc742e0-4a10-11cf-8273-00aa004ae673';

const ADD_STD_ROOT = 12;
const REMOVE_STD_ROOT = 13;

export interface DfsnmRequest {
  readonly method: string;
  /** ServerName: the host the root is (to be) on — the listener, for DFSCoerce. */
  readonly serverName?: string | undefined;
  readonly rootShare?: string | undefined;
  readonly problem?: string | undefined;
}

/** What a NetrDfsAddStdRoot or NetrDfsRemoveStdRoot request names, or undefined for other calls. */
export function dfsnmRequest(call: DcerpcCall): DfsnmRequest | undefined {
  if (call.type !== 'request' || (call.opnum !== ADD_STD_ROOT && call.opnum !== REMOVE_STD_ROOT))
    return undefined;
  const method = call.opnumName ?? `DFSNM opnum ${call.opnum}`;
  if (call.stubEncrypted) return { method };
  // MS-DFSNM §3.1.4.4.1, §3.1.4.4.2: [in, string] WCHAR* ServerName, [in, string] WCHAR* RootShare, …
  const { value, problem } = readStub<DfsnmRequest>(call.stub, (r, out) => {
    out.serverName = r.string('ServerName');
    out.rootShare = r.string('RootShare');
  });
  return { ...value, method, problem };
}
