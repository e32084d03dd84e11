// SMB2 and DCE/RPC against tshark on the two lab recordings: every SMB2/SMB1 message and every
// DCE/RPC PDU and call, over TCP 135, the dynamic RPC port and SMB named pipes, must read as
// tshark 4.0 read them (goldens in fixtures/smb2-dcerpc-testbed, commands in its README). Needs
// the shared corpus; skips with a printed reason without it.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFlows } from '../src/capture-flows.ts';
import type { DcerpcCall, DcerpcEvent } from '../src/dcerpc-stream.ts';
import { DcerpcConnection } from '../src/dcerpc-stream.ts';
import { findNtlmssp } from '../src/ntlm-decoder.ts';
import type { Smb2Command, Smb2Packet } from '../src/smb2-decoder.ts';
import { Smb2Connection, type Smb2Event } from '../src/smb2-stream.ts';
import { tsvRows } from './test-bytes.ts';

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples');
const fixtures = resolve(import.meta.dirname, '../fixtures/smb2-dcerpc-testbed');
const captures = { smb21: 'testbed-smb21-cleartext.pcap', default: 'testbed-default.pcap' } as const;

const absent = existsSync(join(corpus, captures.smb21)) ? undefined : `lab captures not found at ${corpus}`;
if (absent) console.log(`skipping SMB2/DCE-RPC capture comparison: ${absent}`);

/** What decoding one capture produced: lines comparable with tshark's, and every event. */
interface Decoded {
  readonly smb: string[];
  readonly rpc: string[];
  readonly events: { readonly frame: number; readonly event: Smb2Event | DcerpcEvent }[];
  readonly diagnostics: string[];
}

function decodeCapture(file: string): Decoded {
  const { items, diagnostics: captureDiagnostics } = readFlows(
    new Uint8Array(readFileSync(join(corpus, file))),
  );
  const smbConnections = new Map<number, Smb2Connection>();
  const rpcConnections = new Map<number, DcerpcConnection>();
  const out: Decoded = { smb: [], rpc: [], events: [], diagnostics: [] };
  for (const item of items) {
    if (item.kind !== 'data' && item.kind !== 'gap') continue;
    // Wireshark numbers frames from 1.
    const frame = item.frame + 1;
    const port = item.flow.server.port;
    if (port === 445) {
      let smb = smbConnections.get(item.flow.id);
      if (!smb) smbConnections.set(item.flow.id, (smb = new Smb2Connection()));
      if (item.kind === 'gap') {
        out.diagnostics.push(...smb.gap(item.direction, item.length).map((d) => d.message));
        continue;
      }
      const { events, diagnostics } = smb.push(item.direction, item.bytes);
      out.diagnostics.push(...diagnostics.map((d) => `${frame}: ${d.message}`));
      for (const event of events) {
        out.events.push({ frame, event });
        if (event.kind === 'packet') out.smb.push(...packetLines(frame, event.packet));
        if (event.kind === 'rpc') out.rpc.push(...rpcLines(frame, event.rpc));
      }
    } else if (port === 135 || port >= 49152) {
      let rpc = rpcConnections.get(item.flow.id);
      if (!rpc) rpcConnections.set(item.flow.id, (rpc = new DcerpcConnection()));
      if (item.kind === 'gap') {
        out.diagnostics.push(...rpc.gap(item.direction, item.length).map((d) => d.message));
        continue;
      }
      const { events, diagnostics } = rpc.push(item.direction, item.bytes);
      out.diagnostics.push(...diagnostics.map((d) => `${frame}: ${d.message}`));
      for (const event of events) {
        out.events.push({ frame, event });
        out.rpc.push(...rpcLines(frame, event));
      }
    }
  }
  for (const c of [...smbConnections.values(), ...rpcConnections.values()]) {
    out.diagnostics.push(...c.end().map((d) => d.message));
  }
  out.diagnostics.push(...captureDiagnostics.map((d) => d.message));
  return out;
}

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const hex16 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

function packetLines(frame: number, packet: Smb2Packet): string[] {
  switch (packet.kind) {
    case 'smb1':
      return [`${frame} smb1 0x${packet.command.toString(16)}`];
    case 'encrypted':
      return [`${frame} encrypted ${packet.transform.sessionId} ${packet.transform.originalMessageSize}`];
    case 'compressed':
      return [`${frame} compressed`];
    case 'smb2':
      return packet.commands.map((c) => commandLine(frame, c));
  }
}

function commandLine(frame: number, { header: h, body }: Smb2Command): string {
  const extra: string[] = [];
  switch (body.kind) {
    case 'negotiateRequest':
      extra.push(`dialects=${body.dialects.map(hex16).join(',')}`);
      break;
    case 'negotiateResponse':
      extra.push(`dialects=${hex16(body.dialectRevision)}`);
      break;
    case 'treeConnectRequest':
      extra.push(`path=${body.path}`);
      break;
    case 'treeConnectResponse':
      extra.push(`shareType=0x${body.shareType.toString(16).padStart(2, '0')}`);
      break;
    case 'createRequest':
      extra.push(`name=${body.name}`);
      break;
    case 'createResponse':
    case 'closeRequest':
    case 'readRequest':
    case 'writeRequest':
      extra.push(`fid=${body.fileId}`);
      break;
    case 'ioctlRequest':
    case 'ioctlResponse':
      extra.push(`fid=${body.fileId}`, `ctl=${hex32(body.ctlCode)}`);
      break;
    default:
      break;
  }
  const tid = h.treeId === undefined ? '' : hex32(h.treeId);
  const status = h.isResponse ? ` ${hex32(h.status)}` : '';
  return `${frame} ${h.command} ${h.isResponse ? 'response' : 'request'}${status} msg=${h.messageId} ses=${h.sessionId} tid=${tid} ${extra.join(' ')}`.trimEnd();
}

function authText(auth: { authType?: number; authLevel?: number } | undefined): string {
  return auth?.authType === undefined ? '' : ` auth=${auth.authType}/${auth.authLevel}`;
}

function rpcLines(frame: number, event: DcerpcEvent): string[] {
  if (event.kind === 'call') return [callLine(frame, event.call)];
  const pdu = event.pdu;
  const type = pdu.header.ptype;
  const auth = authText(pdu.auth);
  switch (pdu.kind) {
    case 'bind':
    case 'alterContext':
      return [
        `${frame} ${type} call=${pdu.header.callId} uuids=${pdu.contexts.map((c) => c.abstractSyntax.uuid).join(',')}${auth}`,
      ];
    case 'bindAck':
    case 'alterContextResp':
      return [
        `${frame} ${type} call=${pdu.header.callId} results=${pdu.results.map((r) => r.result).join(',')}${auth}`,
      ];
    default:
      return [`${frame} ${type} call=${pdu.header.callId}${auth}`];
  }
}

function callLine(frame: number, call: DcerpcCall): string {
  const type = { request: 0, response: 2, fault: 3 }[call.type];
  const status = call.status === undefined ? '' : ` status=${hex32(call.status)}`;
  return `${frame} ${type} call=${call.callId} ctx=${call.contextId} opnum=${call.opnum} if=${call.interface?.uuid}${authText(call)}${status}`;
}

const tsv = (name: string) => tsvRows(fixtures, name);

/** The same lines from tshark's fields (see the README for the command). */
function tsharkSmbLines(name: string): string[] {
  return tsv(name).map((c) => {
    const [
      frame,
      ,
      smbCmd,
      cmd,
      resp,
      ,
      status,
      msgId,
      sesId,
      tid,
      dialect,
      tree,
      filename,
      fid,
      ioctl,
      shareType,
      size,
    ] = c as [string, ...string[]];
    if (smbCmd) return `${frame} smb1 ${smbCmd}`;
    if (size) return `${frame} encrypted ${sesId} ${size}`;
    const response = resp === '1';
    const extra: string[] = [];
    const request = !response;
    if (cmd === '0') extra.push(`dialects=${dialect}`);
    if (cmd === '3' && request) extra.push(`path=${tree}`);
    if (cmd === '3' && response && shareType) extra.push(`shareType=${shareType}`);
    if (cmd === '5' && request) extra.push(`name=${filename}`);
    if (fid && ((cmd === '5' && response) || (request && ['6', '8', '9'].includes(cmd ?? ''))))
      extra.push(`fid=${fid}`);
    if (cmd === '11' && ioctl) extra.push(`fid=${fid}`, `ctl=${ioctl}`);
    const st = response ? ` ${status}` : '';
    return `${frame} ${cmd} ${response ? 'response' : 'request'}${st} msg=${msgId} ses=${sesId} tid=${tid} ${extra.join(' ')}`.trimEnd();
  });
}

/**
 * tshark lists every fragment; a call is complete at its last fragment (flag 0x02). A
 * request's interface is that of the latest bind on the same TCP stream.
 */
function tsharkRpcLines(name: string): string[] {
  const bound = new Map<string, string>();
  const lines: string[] = [];
  for (const c of tsv(name)) {
    const [frame, stream, type, callId, flags, ctx, uuid, opnum, authType, authLevel, status, ackResult] =
      c as [string, ...string[]];
    const auth = authType && authType !== '0' ? ` auth=${authType}/${authLevel}` : '';
    switch (type) {
      case '11':
      case '14':
        bound.set(stream ?? '', uuid ?? '');
        lines.push(`${frame} ${type} call=${callId} uuids=${uuid}${auth}`);
        break;
      case '12':
      case '15':
        lines.push(`${frame} ${type} call=${callId} results=${ackResult}${auth}`);
        break;
      case '0':
      case '2':
        if ((Number(flags) & 0x02) === 0) break;
        lines.push(
          `${frame} ${type} call=${callId} ctx=${ctx} opnum=${opnum} if=${bound.get(stream ?? '')}${auth}`,
        );
        break;
      case '3':
        lines.push(
          `${frame} ${type} call=${callId} ctx=${ctx} opnum=${opnum} if=${bound.get(stream ?? '')}${auth} status=${status}`,
        );
        break;
      default:
        lines.push(`${frame} ${type} call=${callId}${auth}`);
    }
  }
  return lines;
}

describe.skipIf(absent !== undefined)('testbed-smb21-cleartext.pcap (SMB capped at 2.1)', () => {
  const decoded = absent ? undefined : decodeCapture(captures.smb21);
  const d = decoded as Decoded;

  it('reads every SMB2 and SMB1 message as tshark does', () => {
    expect(d.smb).toHaveLength(549);
    expect(d.smb).toEqual(tsharkSmbLines('smb21.smb2.tshark.tsv'));
  });

  it('reads every DCE/RPC PDU and call, on TCP and on named pipes, as tshark does', () => {
    // 259 PDUs in tshark's list, 9 of them fragments of calls completed by a later one.
    expect(d.rpc).toHaveLength(250);
    expect(d.rpc).toEqual(tsharkRpcLines('smb21.dcerpc.tshark.tsv'));
  });

  it('reports nothing wrong', () => {
    expect(d.diagnostics).toEqual([]);
  });

  it('names the pipes, interfaces and methods the attacks used', () => {
    const pipes = new Map<string, number>();
    const methods = new Map<string, number>();
    for (const { event } of d.events) {
      if (event.kind === 'create' && event.isPipe) pipes.set(event.name, (pipes.get(event.name) ?? 0) + 1);
      const rpc =
        event.kind === 'rpc' ? event.rpc : event.kind === 'call' || event.kind === 'pdu' ? event : undefined;
      if (rpc?.kind === 'call' && rpc.call.type === 'request') {
        const key = `${rpc.call.interface?.name} ${rpc.call.opnumName}${rpc.call.stubEncrypted ? ' (sealed)' : ''}`;
        methods.set(key, (methods.get(key) ?? 0) + 1);
      }
    }
    // summary-smb21.txt in the corpus: SMB2 Create names {'srvsvc': 5, 'samr': 8, 'svcctl': 3}.
    expect(Object.fromEntries(pipes)).toEqual({ srvsvc: 5, samr: 8, svcctl: 3 });
    expect(Object.fromEntries([...methods].sort(([a], [b]) => a.localeCompare(b)))).toEqual({
      'DRSUAPI IDL_DRSBind (sealed)': 2,
      'DRSUAPI IDL_DRSCrackNames (sealed)': 10,
      'DRSUAPI IDL_DRSDomainControllerInfo (sealed)': 2,
      'DRSUAPI IDL_DRSGetNCChanges (sealed)': 10,
      'EPM ept_lookup': 2,
      'EPM ept_map': 3,
      'SAMR SamrCloseHandle': 18,
      'SAMR SamrConnect': 3,
      'SAMR SamrConnect5': 4,
      'SAMR SamrEnumerateDomainsInSamServer': 2,
      'SAMR SamrEnumerateGroupsInDomain': 1,
      'SAMR SamrEnumerateUsersInDomain': 4,
      'SAMR SamrGetDomainPasswordInformation': 1,
      'SAMR SamrGetMembersInGroup': 1,
      'SAMR SamrLookupDomainInSamServer': 4,
      'SAMR SamrOpenDomain': 7,
      'SAMR SamrOpenGroup': 1,
      'SAMR SamrOpenUser': 9,
      'SAMR SamrQueryInformationUser': 1,
      'SAMR SamrQueryInformationUser2': 8,
      'SRVSVC NetrServerGetInfo': 1,
      'SRVSVC NetrShareEnum': 4,
      'SVCCTL RCreateServiceW': 2,
      'SVCCTL ROpenSCManagerW': 2,
      'SVCCTL ROpenServiceW': 1,
    });
  });

  it('hands the DRSUAPI bind, bind_ack and auth3 tokens to the NTLMSSP decoder', () => {
    const tokens: string[] = [];
    for (const { frame, event } of d.events) {
      if (event.kind !== 'pdu' || !event.pdu.auth || event.pdu.auth.authType !== 10) continue;
      const ntlm = findNtlmssp(event.pdu.auth.authValue)?.value;
      const who = ntlm?.kind === 'authenticate' ? ` ${ntlm.domainName}\\${ntlm.userName}` : '';
      tokens.push(`${frame} ${event.pdu.kind} ${ntlm?.kind}${who}`);
    }
    expect(tokens).toEqual([
      '1529 bind negotiate',
      '1531 bindAck challenge',
      '1533 auth3 authenticate CORP.LAB.TEST\\administrator',
      '1655 bind negotiate',
      '1657 bindAck challenge',
      '1659 auth3 authenticate CORP.LAB.TEST\\administrator',
    ]);
  });

  it('gives SMB session setups their status and security buffers', () => {
    const setups = new Map<string, number>();
    for (const { event } of d.events) {
      if (event.kind !== 'sessionSetup') continue;
      const key = `${event.statusName} request=${event.requestSecurityBuffer !== undefined} response=${event.responseSecurityBuffer !== undefined}`;
      setups.set(key, (setups.get(key) ?? 0) + 1);
    }
    // summary-smb21.txt: SessionSetup status {'0xc0000016': 21, '0x00000000': 11, '0xc000006d': 10}.
    expect(Object.fromEntries(setups)).toEqual({
      'STATUS_MORE_PROCESSING_REQUIRED request=true response=true': 21,
      'STATUS_SUCCESS request=true response=true': 11,
      'STATUS_LOGON_FAILURE request=true response=false': 10,
    });
  });

  it('keeps its whole output stable', async () => {
    const text = d.events
      .flatMap(({ frame, event }) => {
        const line = eventText(event);
        return line === undefined ? [] : [`${frame} ${line}`];
      })
      .join('\n');
    await expect(`${text}\n`).toMatchFileSnapshot(join(fixtures, 'smb21.events.golden.txt'));
  });
});

describe.skipIf(absent !== undefined)('testbed-default.pcap (SMB 3.1.1, encrypted sessions)', () => {
  const decoded = absent ? undefined : decodeCapture(captures.default);
  const d = decoded as Decoded;

  it('reads every SMB2 message, encrypted ones by their transform header, as tshark does', () => {
    expect(d.smb).toHaveLength(538);
    expect(d.smb).toEqual(tsharkSmbLines('default.smb2.tshark.tsv'));
  });

  it('reads every DCE/RPC PDU and call it can see as tshark does', () => {
    expect(d.rpc).toHaveLength(152);
    expect(d.rpc).toEqual(tsharkRpcLines('default.dcerpc.tshark.tsv'));
  });

  it('reports nothing wrong', () => {
    expect(d.diagnostics).toEqual([]);
  });
});

// One line per event above the SMB2 packets (which the tshark comparison covers field by field).
function eventText(event: Smb2Event | DcerpcEvent): string | undefined {
  const status = (e: { status: number; statusName?: string }) => e.statusName ?? hex32(e.status);
  switch (event.kind) {
    case 'packet':
      return undefined;
    case 'sessionSetup':
      return `sessionSetup ${event.sessionId} ${status(event)} token=${event.requestSecurityBuffer?.length ?? '-'}/${event.responseSecurityBuffer?.length ?? '-'}`;
    case 'treeConnect':
      return `treeConnect ${event.sessionId} ${event.path} ${status(event)} tree=${event.treeId === undefined ? '-' : hex32(event.treeId)} type=${event.shareType ?? '-'}`;
    case 'create':
      return `create ${event.share ?? '?'}\\${event.name} ${event.isPipe ? 'pipe' : 'file'} ${status(event)} fid=${event.fileId ?? '-'}`;
    case 'rpc':
      return `rpc \\PIPE\\${event.pipe.name} ${rpcText(event.rpc)}`;
    default:
      return `rpc tcp ${rpcText(event)}`;
  }
}

function rpcText(event: DcerpcEvent): string {
  if (event.kind === 'call') {
    const c = event.call;
    const method = `${c.interface?.name ?? '?'} ${c.opnumName ?? '?'}(${c.opnum ?? '?'})`;
    const fault = c.statusName ? ` fault=${c.statusName}` : '';
    return `${event.direction} ${c.type} call=${c.callId} ${method} stub=${c.stubLength} frags=${c.fragments}${c.stubEncrypted ? ' sealed' : ''}${fault}`;
  }
  const p = event.pdu;
  const auth = p.auth
    ? ` auth=${p.auth.authTypeName}/${p.auth.authLevelName} token=${p.auth.authValue.length}`
    : '';
  const syntax = (x: { name?: string; uuid: string; versionMajor: number; versionMinor: number }) =>
    `${x.name ?? x.uuid} v${x.versionMajor}.${x.versionMinor}`;
  switch (p.kind) {
    case 'bind':
    case 'alterContext':
      return `${event.direction} ${p.kind} call=${p.header.callId} ${p.contexts.map((c) => `[${c.pContId}] ${syntax(c.abstractSyntax)} over ${c.transferSyntaxes.map(syntax).join('+')}`).join(', ')}${auth}`;
    case 'bindAck':
    case 'alterContextResp':
      return `${event.direction} ${p.kind} call=${p.header.callId} secAddr=${p.secAddr} ${p.results.map((r) => `${r.resultName}:${syntax(r.transferSyntax)}`).join(', ')}${auth}`;
    default:
      return `${event.direction} ${p.kind} call=${p.header.callId}${auth}`;
  }
}
