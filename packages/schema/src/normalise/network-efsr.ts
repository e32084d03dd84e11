// EFSRPC requests seen on the wire (MS-EFSR over \PIPE\lsarpc, \PIPE\efsrpc or TCP) that name a
// file: given a UNC path, the server opens it — authenticating to the host in the path as its
// machine account, which PetitPotam and Coercer use to coerce a DC into NTLM relay.
import type { DcerpcCall } from '@palisade/protocols';
import { readStub } from './network-ndr.ts';

/** The interface behind \PIPE\lsarpc, and the one behind \PIPE\efsrpc (MS-EFSR §1.9). */
export const EFSR_UUIDS = ['c681d488-d850-11d0-8c52-00c04fd90f7e', 'df1941c5-fe89-4e79-bf10-463657acf44d'];

/**
 * The methods that take a file name (MS-EFSR §3.1.4.2), by opnum: how many DWORDs and unique
 * EFS_RPC_BLOB pointers come before it, and how many file names there are.
 */
const fileMethods: Readonly<
  Record<number, { readonly before: 'none' | 'flags-and-blob'; readonly names: 1 | 2 }>
> = {
  0: { before: 'none', names: 1 }, // EfsRpcOpenFileRaw
  4: { before: 'none', names: 1 }, // EfsRpcEncryptFileSrv
  5: { before: 'none', names: 1 }, // EfsRpcDecryptFileSrv
  6: { before: 'none', names: 1 }, // EfsRpcQueryUsersOnFile
  7: { before: 'none', names: 1 }, // EfsRpcQueryRecoveryAgents
  8: { before: 'none', names: 1 }, // EfsRpcRemoveUsersFromFile
  9: { before: 'none', names: 1 }, // EfsRpcAddUsersToFile
  12: { before: 'none', names: 1 }, // EfsRpcFileKeyInfo
  13: { before: 'none', names: 2 }, // EfsRpcDuplicateEncryptionInfoFile
  15: { before: 'flags-and-blob', names: 1 }, // EfsRpcAddUsersToFileEx
  16: { before: 'flags-and-blob', names: 1 }, // EfsRpcFileKeyInfoEx
  18: { before: 'none', names: 1 }, // EfsRpcGetEncryptedFileMetadata
  19: { before: 'none', names: 1 }, // EfsRpcSetEncryptedFileMetadata
  21: { before: 'none', names: 1 }, // EfsRpcEncryptFileExSrv
  22: { before: 'none', names: 1 }, // EfsRpcQueryProtectors
};

export interface EfsrRequest {
  readonly method: string;
  readonly fileNames: readonly string[];
  /** The host a UNC file name points the server at, when one does. */
  readonly listener?: string | undefined;
  readonly problem?: string | undefined;
}

/** The file names an EFSRPC request names, or undefined for the calls that take none. */
export function efsrRequest(call: DcerpcCall): EfsrRequest | undefined {
  const opnum = call.opnum ?? -1;
  const shape = fileMethods[opnum];
  if (call.type !== 'request' || !shape) return undefined;
  const method = call.opnumName ?? `EFSRPC opnum ${opnum}`;
  if (call.stubEncrypted) return { method, fileNames: [] };
  const { value, problem } = readStub<{ fileNames: string[] }>(call.stub, (r, out) => {
    if (shape.before === 'flags-and-blob') {
      // [in] DWORD dwFlags, [in, unique] PEFS_RPC_BLOB Reserved { DWORD cbData; [size_is(cbData)] bData* }.
      r.u32('dwFlags');
      if (r.pointer('Reserved')) {
        r.alignPointerStruct();
        r.u32('Reserved cbData');
        if (r.pointer('Reserved bData')) r.skipBytes('Reserved bData');
      }
    }
    // [in, string] wchar_t* FileName (SrcFileName, then DestFileName for opnum 13).
    out.fileNames = [];
    for (let i = 0; i < shape.names; i++) out.fileNames.push(r.string(i === 0 ? 'FileName' : 'DestFileName'));
  });
  const fileNames = value.fileNames ?? [];
  return { method, fileNames, listener: fileNames.map(uncHost).find(Boolean), problem };
}

/**
 * The host of a UNC path: `\\host\share\…`, `\\host@80\…` (WebDAV), `\\?\UNC\host\…`; undefined
 * for local paths and device paths.
 */
export function uncHost(path: string): string | undefined {
  const p = path.replaceAll('/', '\\');
  const rest = /^\\\\\?\\unc\\/i.test(p) ? p.slice(8) : p.startsWith('\\\\') ? p.slice(2) : undefined;
  if (rest === undefined || rest.startsWith('?\\') || rest.startsWith('.\\')) return undefined;
  const host = rest.split('\\')[0]?.split('@')[0] ?? '';
  return host === '' ? undefined : host;
}
