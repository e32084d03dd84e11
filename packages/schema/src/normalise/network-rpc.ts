// DCE/RPC calls seen on the wire (over TCP or SMB2 named pipes) as Identity rows: SAM-R queries
// as IdentityQueryEvents, DRSUAPI replication requests as IdentityDirectoryEvents.
import type { DcerpcCall } from '@palisade/protocols';
import { DirectoryAction, QueryAction } from '../action-types.ts';
import type { TableRow } from '../rows.ts';
import { networkRow, type Where } from './network-row.ts';
import { SAMR_UUID, samrQuery } from './network-samr.ts';

const DRSUAPI = 'e3514235-4b06-11d1-ab04-00c04fc2dcd2';
const GET_NC_CHANGES = 3;

/** Who a connection or SMB session runs as, from its NTLM authenticate message. */
export interface RpcCaller {
  readonly account?: string | undefined;
  readonly domain?: string | undefined;
}

/**
 * The rows one DCE/RPC call gives, if any.
 * @param transport `ncacn_ip_tcp`, or `\PIPE\name` for a call over an SMB2 named pipe.
 */
export function rpcCallRows(call: DcerpcCall, at: Where, caller: RpcCaller, transport: string): TableRow[] {
  const uuid = call.interface?.uuid.toLowerCase();
  if (uuid === SAMR_UUID) {
    const r = samrRow(call, at, caller, transport);
    return r ? [r] : [];
  }
  if (uuid === DRSUAPI && call.type === 'request' && call.opnum === GET_NC_CHANGES)
    return [
      networkRow(
        'IdentityDirectoryEvents',
        at,
        {
          ActionType: DirectoryAction.replication,
          Protocol: 'Drsr',
          AccountName: caller.account,
          AccountDomain: caller.domain,
        },
        // DsGetNCChanges is the replication right in use; which one, the sealed stub does not show.
        {
          ReplicationRights: ['Get-Changes', 'Get-Changes-All'],
          Method: call.opnumName ?? 'IDL_DRSGetNCChanges',
          Transport: transport,
        },
      ),
    ];
  return [];
}

/** A SAM-R query as an IdentityQueryEvents row, or undefined for other calls. */
function samrRow(call: DcerpcCall, at: Where, caller: RpcCaller, transport: string): TableRow | undefined {
  const q = samrQuery(call);
  if (!q) return undefined;
  return networkRow(
    'IdentityQueryEvents',
    at,
    {
      ActionType: QueryAction.samr,
      Protocol: 'Samr',
      QueryType: q.queryType,
      QueryTarget: q.target,
      Query: q.method,
      AccountName: caller.account,
      AccountDomain: caller.domain,
    },
    {
      Method: q.method,
      Opnum: call.opnum,
      Rid: q.rid,
      Names: q.names ? [...q.names] : undefined,
      Transport: transport,
    },
  );
}
