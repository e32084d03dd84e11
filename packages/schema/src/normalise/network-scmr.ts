// SVCCTL requests seen on the wire (MS-SCMR over \PIPE\svcctl or TCP) that install or repoint a
// service — what PsExec, smbexec and SCShell-style tools send to run code on a remote host —
// with the service's name, command line, type, start type and account where the stub is readable.
import type { DcerpcCall } from '@palisade/protocols';
import { type Filling, type NdrReader, readStub } from './network-ndr.ts';

export const SVCCTL_UUID = '367abb81-9844-35f1-ad32-98f038001003';

/** The calls that install a service or change the command a service runs (MS-SCMR §3.1.4). */
const calls: Readonly<Record<number, { readonly kind: 'create' | 'change'; readonly unit: 1 | 2 }>> = {
  11: { kind: 'change', unit: 2 }, // RChangeServiceConfigW
  12: { kind: 'create', unit: 2 }, // RCreateServiceW
  23: { kind: 'change', unit: 1 }, // RChangeServiceConfigA
  24: { kind: 'create', unit: 1 }, // RCreateServiceA
  44: { kind: 'create', unit: 1 }, // RCreateServiceWOW64A
  45: { kind: 'create', unit: 2 }, // RCreateServiceWOW64W
};

export interface ScmrRequest {
  readonly kind: 'create' | 'change';
  readonly method: string;
  readonly serviceName?: string | undefined;
  readonly displayName?: string | undefined;
  /** lpBinaryPathName: the command line the service runs. */
  readonly binaryPath?: string | undefined;
  /** dwServiceType as Windows logs it in 4697 (`0x10`); absent for SERVICE_NO_CHANGE. */
  readonly serviceType?: string | undefined;
  /** dwStartType as 4697 logs it (`2` auto, `3` demand). */
  readonly startType?: string | undefined;
  /** lpServiceStartName: the account the service runs as. */
  readonly serviceAccount?: string | undefined;
  /** Why the stub could not be read to its end. */
  readonly problem?: string | undefined;
}

const SERVICE_NO_CHANGE = 0xffffffff;

/** What a service-installing SVCCTL request asks for, or undefined for other calls. */
export function scmrRequest(call: DcerpcCall): ScmrRequest | undefined {
  const opnum = call.opnum ?? -1;
  const known = calls[opnum];
  if (call.type !== 'request' || !known) return undefined;
  const method = call.opnumName ?? `SVCCTL opnum ${opnum}`;
  if (call.stubEncrypted) return { kind: known.kind, method };
  const { unit } = known;
  const { value, problem } = readStub<ScmrRequest>(call.stub, (r, out) =>
    known.kind === 'create' ? readCreate(r, unit, out) : readChange(r, unit, out),
  );
  return { ...value, kind: known.kind, method, problem };
}

// RCreateServiceW (§3.1.4.12) and its A and WOW64 forms: [in] SC_RPC_HANDLE hSCManager,
// [in, string] lpServiceName, [in, string, unique] lpDisplayName, [in] dwDesiredAccess,
// dwServiceType, dwStartType, dwErrorControl, [in, string] lpBinaryPathName, [in, string, unique]
// lpLoadOrderGroup, [in, out, unique] LPDWORD lpdwTagId, [in, unique, size_is(dwDependSize)]
// lpDependencies, [in] dwDependSize, [in, string, unique] lpServiceStartName, … (password).
function readCreate(r: NdrReader, unit: 1 | 2, out: Filling<Partial<ScmrRequest>>) {
  r.contextHandle('hSCManager');
  out.serviceName = r.string('lpServiceName', unit);
  out.displayName = r.uniqueString('lpDisplayName', unit);
  r.u32('dwDesiredAccess');
  out.serviceType = serviceType(r.u32('dwServiceType'));
  out.startType = startType(r.u32('dwStartType'));
  r.u32('dwErrorControl');
  out.binaryPath = r.string('lpBinaryPathName', unit);
  readAccount(r, unit, out);
}

// RChangeServiceConfigW (§3.1.4.11) and its A form: [in] SC_RPC_HANDLE hService, [in]
// dwServiceType, dwStartType, dwErrorControl, [in, string, unique] lpBinaryPathName, then
// lpLoadOrderGroup … lpServiceStartName as for RCreateServiceW, the password, lpDisplayName.
function readChange(r: NdrReader, unit: 1 | 2, out: Filling<Partial<ScmrRequest>>) {
  r.contextHandle('hService');
  out.serviceType = serviceType(r.u32('dwServiceType'));
  out.startType = startType(r.u32('dwStartType'));
  r.u32('dwErrorControl');
  out.binaryPath = r.uniqueString('lpBinaryPathName', unit);
  readAccount(r, unit, out);
}

function readAccount(r: NdrReader, unit: 1 | 2, out: Filling<Partial<ScmrRequest>>) {
  r.uniqueString('lpLoadOrderGroup', unit);
  if (r.pointer('lpdwTagId')) r.u32('lpdwTagId');
  if (r.pointer('lpDependencies')) r.skipBytes('lpDependencies');
  r.u32('dwDependSize');
  out.serviceAccount = r.uniqueString('lpServiceStartName', unit);
}

const serviceType = (v: number) => (v === SERVICE_NO_CHANGE ? undefined : `0x${v.toString(16)}`);
const startType = (v: number) => (v === SERVICE_NO_CHANGE ? undefined : String(v));
