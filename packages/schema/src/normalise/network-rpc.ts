// DCE/RPC calls seen on the wire (over TCP or SMB2 named pipes) as Identity rows, by interface:
// SAM-R queries and SMB session enumeration as IdentityQueryEvents; DRSUAPI replication, remote
// service installs (SVCCTL), scheduled tasks (ATSVC, ITaskSchedulerService) and the calls that
// coerce a server into authenticating elsewhere (EFSRPC, DFSNM) as IdentityDirectoryEvents.
import type { DcerpcCall } from '@palisade/protocols';
import { DirectoryAction, QueryAction } from '../action-types.ts';
import type { Dynamic, TableRow } from '../rows.ts';
import { DFSNM_UUID, dfsnmRequest } from './network-dfsnm.ts';
import { EFSR_UUIDS, efsrRequest } from './network-efsr.ts';
import { networkRow, type Where } from './network-row.ts';
import { SAMR_UUID, samrQuery } from './network-samr.ts';
import { SVCCTL_UUID, scmrRequest } from './network-scmr.ts';
import { SRVSVC_UUID, sessionEnumRequest } from './network-srvs.ts';
import { ATSVC_UUID, TASK_SCHEDULER_UUID, taskRequest } from './network-tsch.ts';

const DRSUAPI = 'e3514235-4b06-11d1-ab04-00c04fc2dcd2';
const GET_NC_CHANGES = 3;

/** Who a connection or SMB session runs as, from its NTLM authenticate message. */
export interface RpcCaller {
  readonly account?: string | undefined;
  readonly domain?: string | undefined;
}

/** One call of a known interface, with where it was seen and who made it. */
interface Seen {
  readonly call: DcerpcCall;
  readonly uuid: string;
  readonly at: Where;
  readonly caller: RpcCaller;
  /** `ncacn_ip_tcp`, or `\PIPE\name` for a call over an SMB2 named pipe. */
  readonly transport: string;
}

type RowMaker = (seen: Seen) => TableRow | undefined;

/**
 * The rows one DCE/RPC call gives, if any.
 * @param transport `ncacn_ip_tcp`, or `\PIPE\name` for a call over an SMB2 named pipe.
 */
export function rpcCallRows(call: DcerpcCall, at: Where, caller: RpcCaller, transport: string): TableRow[] {
  const uuid = call.interface?.uuid.toLowerCase() ?? '';
  const row = rowMakers.get(uuid)?.({ call, uuid, at, caller, transport });
  return row ? [row] : [];
}

const drsuapiRow: RowMaker = ({ call, at, caller, transport }) =>
  call.type === 'request' && call.opnum === GET_NC_CHANGES
    ? networkRow(
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
      )
    : undefined;

/** A SAM-R query as an IdentityQueryEvents row. */
const samrRow: RowMaker = ({ call, at, caller, transport }) => {
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
};

/**
 * A row for a call of the interfaces added with remote execution and coercion: the caller,
 * method, opnum, interface and transport, whether the stub was sealed, and why it could not be
 * read to its end.
 */
function callRow(
  table: 'IdentityDirectoryEvents' | 'IdentityQueryEvents',
  seen: Seen,
  request: { readonly method: string; readonly problem?: string | undefined },
  values: Record<string, Dynamic | undefined>,
  extra: Record<string, Dynamic | undefined>,
): TableRow {
  const { call, at, caller } = seen;
  return networkRow(
    table,
    at,
    { ...values, AccountName: caller.account, AccountDomain: caller.domain },
    {
      ...extra,
      Method: request.method,
      Opnum: call.opnum,
      InterfaceUuid: seen.uuid,
      Transport: seen.transport,
      StubEncrypted: call.stubEncrypted || undefined,
      StubProblem: request.problem,
    },
  );
}

/** RCreateService* as `Service creation` (the keys of 7045/4697 rows); RChangeServiceConfig* with a command. */
const scmrRow: RowMaker = (seen) => {
  const q = scmrRequest(seen.call);
  // A configuration change read to its end that leaves the command alone is not a way to run code.
  if (!q || (q.kind === 'change' && q.binaryPath === undefined && !seen.call.stubEncrypted && !q.problem))
    return undefined;
  return callRow(
    'IdentityDirectoryEvents',
    seen,
    q,
    {
      ActionType: q.kind === 'create' ? DirectoryAction.serviceCreation : DirectoryAction.serviceChanged,
      Protocol: 'Scmr',
    },
    {
      ServiceName: q.serviceName,
      DisplayName: q.displayName,
      ServiceFileName: q.binaryPath,
      ServiceType: q.serviceType,
      StartType: q.startType,
      ServiceAccount: q.serviceAccount,
    },
  );
};

/** NetrSessionEnum as `SMB session enumeration`. */
const srvsRow: RowMaker = (seen) => {
  const q = sessionEnumRequest(seen.call);
  if (!q) return undefined;
  return callRow(
    'IdentityQueryEvents',
    seen,
    q,
    {
      ActionType: QueryAction.smbSessionEnumeration,
      Protocol: 'Srvs',
      QueryType: 'EnumerateSessions',
      Query: q.method,
      QueryTarget: q.userName ?? q.clientName,
    },
    { Level: q.level, ClientName: q.clientName, UserName: q.userName },
  );
};

/** NetrJobAdd and SchRpcRegisterTask as `Task scheduling`. */
const taskRow: RowMaker = (seen) => {
  const q = taskRequest(seen.call, seen.uuid);
  if (!q) return undefined;
  return callRow(
    'IdentityDirectoryEvents',
    seen,
    q,
    { ActionType: DirectoryAction.taskScheduling, Protocol: 'Tsch' },
    { TaskName: q.taskName, TaskCommand: q.command },
  );
};

/** An EFSRPC call that names a file, with the host a UNC name points at. */
const efsrRow: RowMaker = (seen) => {
  const q = efsrRequest(seen.call);
  if (!q) return undefined;
  return callRow(
    'IdentityDirectoryEvents',
    seen,
    q,
    { ActionType: DirectoryAction.efsrpcCall, Protocol: 'Efsr' },
    { FileNames: q.fileNames.length ? [...q.fileNames] : undefined, Listener: q.listener },
  );
};

/** NetrDfsAddStdRoot and NetrDfsRemoveStdRoot, with the server they name. */
const dfsnmRow: RowMaker = (seen) => {
  const q = dfsnmRequest(seen.call);
  if (!q) return undefined;
  return callRow(
    'IdentityDirectoryEvents',
    seen,
    q,
    { ActionType: DirectoryAction.dfsnmCall, Protocol: 'Dfsnm' },
    { ServerName: q.serverName, RootShare: q.rootShare },
  );
};

/** The row maker of each interface Palisade reads, by UUID. */
const rowMakers = new Map<string, RowMaker>([
  [SAMR_UUID, samrRow],
  [DRSUAPI, drsuapiRow],
  [SVCCTL_UUID, scmrRow],
  [SRVSVC_UUID, srvsRow],
  [ATSVC_UUID, taskRow],
  [TASK_SCHEDULER_UUID, taskRow],
  ...EFSR_UUIDS.map((u): [string, RowMaker] => [u, efsrRow]),
  [DFSNM_UUID, dfsnmRow],
]);
