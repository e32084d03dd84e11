// Remote execution, session enumeration and coercion calls from packets: the rows
// normaliseCapture makes from real captures (fixtures/network-rpc: rpcclient, netview.py,
// services.py and Impacket calls against a Samba DC and a stand-in listener; the lab's SMB 2.1
// recording in the shared corpus) against tshark's reading of the same frames, plus a regression
// golden of every such row.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { DcerpcCall } from '@palisade/protocols';
import { describe, expect, it } from 'vitest';
import { checkRow, DirectoryAction, normaliseCapture, QueryAction, type TableRow } from '../src/index.ts';
import { uncHost } from '../src/normalise/network-efsr.ts';
import { rpcCallRows } from '../src/normalise/network-rpc.ts';
import { requestsOf } from './network-rpc-requests.ts';

const fixtures = new URL('../fixtures/network-rpc/', import.meta.url);
const corpus = new URL('../../../../shared/corpus/testbed-samples/', import.meta.url);
const absent = existsSync(corpus) ? undefined : `${corpus.pathname} is absent`;
if (absent) console.log(`skipping the lab capture's SVCCTL rows: ${absent}`);

const SVCCTL = '367abb81-9844-35f1-ad32-98f038001003';
const SRVSVC = '4b324fc8-1670-01d3-1278-5a47bf6ee188';
const DFSNM = '4fc742e0-4a10-11cf-8273-00aa004ae673';
const EFSR_LSARPC = 'c681d488-d850-11d0-8c52-00c04fd90f7e';
const EFSR_EFSRPC = 'df1941c5-fe89-4e79-bf10-463657acf44d';
const ATSVC = '1ff70682-0a51-30e8-076d-740be8cee98b';
const TSCH = '86d35949-83c9-4044-b424-db363231fd0c';
/** goldens.sh's per-interface opnum columns, in order (8 to 13). */
const dissectedAs = [SVCCTL, SRVSVC, DFSNM, EFSR_LSARPC, ATSVC, TSCH];

/** The requests that make rows, by interface: everything else (opens, closes, enumerations) makes none. */
const rowOpnums: Record<string, readonly number[]> = {
  [SVCCTL]: [11, 12, 23, 24, 44, 45],
  [SRVSVC]: [12],
  [DFSNM]: [12, 13],
  [EFSR_LSARPC]: [0, 4, 5, 6, 7, 8, 9, 12, 13, 15, 16, 18, 19, 21, 22],
  [EFSR_EFSRPC]: [0, 4, 5, 6, 7, 8, 9, 12, 13, 15, 16, 18, 19, 21, 22],
  [ATSVC]: [0],
  [TSCH]: [1],
};

const newActions: readonly string[] = [
  DirectoryAction.serviceCreation,
  DirectoryAction.serviceChanged,
  DirectoryAction.taskScheduling,
  DirectoryAction.efsrpcCall,
  DirectoryAction.dfsnmCall,
  QueryAction.smbSessionEnumeration,
];

interface TsharkRequest {
  readonly frame: number;
  readonly source: string;
  readonly uuid: string;
  readonly opnum: number;
  readonly sealed: boolean;
  /** The capture's named fields (goldens.sh), from column 14 on. */
  readonly fields: readonly string[];
}

/** The requests of a goldens.sh view, each with its interface: as dissected, else as bound on its stream. */
function tsharkRequests(file: string): TsharkRequest[] {
  const bound = new Map<string, string>();
  const out: TsharkRequest[] = [];
  for (const line of readFileSync(new URL(file, fixtures), 'utf8').split('\n')) {
    if (line === '') continue;
    const c = line.split('\t');
    const [frame = '', stream = '', source = '', type = '', uuid = '', , opnum = '', authLevel = ''] = c;
    if (type === '11') bound.set(stream, uuid);
    if (type !== '0') continue;
    const column = c.slice(8, 14).findIndex((v) => v !== '');
    out.push({
      frame: Number(frame),
      source,
      uuid: column >= 0 ? (dissectedAs[column] as string) : (bound.get(stream) ?? ''),
      opnum: Number(opnum),
      sealed: authLevel === '6',
      fields: c.slice(14),
    });
  }
  return out;
}

function rowsOf(url: URL): TableRow[] {
  const { rows, diagnostics } = normaliseCapture(readFileSync(url));
  expect(diagnostics).toEqual([]);
  return rows.filter((r) => newActions.includes(r.values.ActionType as string));
}

const where = {
  client: { ip: '10.0.0.66', port: 50000 },
  server: { ip: '10.0.0.5', port: 445 },
  timestampUs: 0,
  frame: 0,
};
const extra = (r: TableRow) => r.values.AdditionalFields as Record<string, unknown>;

/** Frame, source, interface and opnum of each row, as tshark's columns give them. */
const keyOfRow = (r: TableRow) =>
  [extra(r).Frame, r.values.IPAddress, extra(r).InterfaceUuid, extra(r).Opnum].join(' ');
const keyOfRequest = (q: TsharkRequest) => [q.frame, q.source, q.uuid, q.opnum].join(' ');

/** Our rows and tshark's row-making requests, matched one to one in frame order. */
function matched(name: string): [TableRow, TsharkRequest][] {
  const rows = rowsOf(new URL(`${name}.pcap`, fixtures));
  const requests = tsharkRequests(`${name}.tshark.tsv`).filter((q) => rowOpnums[q.uuid]?.includes(q.opnum));
  expect(rows.map(keyOfRow)).toEqual(requests.map(keyOfRequest));
  for (const r of rows) expect(checkRow(r)).toEqual([]);
  return rows.map((r, i) => [r, requests[i] as TsharkRequest]);
}

describe('rows from the network-rpc captures, against tshark', () => {
  it('SRVSVC: one SMB session enumeration row per NetrSessionEnum, with level and filters', () => {
    const pairs = matched('srvsvc-session-enum');
    // rpcclient netsessenum as alice, netview.py, the 502 filter call, rpcclient as administrator;
    // rpcclient's netshareenumall (NetrShareEnum) makes no row.
    expect(pairs.length).toBe(4);
    for (const [r, q] of pairs) {
      const [level, client, user] = q.fields;
      expect(r.values).toMatchObject({
        ActionType: 'SMB session enumeration',
        Protocol: 'Srvs',
        QueryType: 'EnumerateSessions',
      });
      expect([extra(r).Level, extra(r).ClientName ?? '', extra(r).UserName ?? '']).toEqual([
        Number(level),
        client,
        user,
      ]);
    }
    expect(pairs.map(([r]) => r.values.AccountName)).toEqual(['alice', 'alice', 'alice', 'administrator']);
  });

  it('SVCCTL: service creation and command change rows with the arguments; a sealed call keeps its method', () => {
    const pairs = matched('svcctl-remote-service');
    expect(pairs.map(([r]) => [r.values.ActionType, extra(r).Method, extra(r).StubEncrypted])).toEqual([
      ['Service creation', 'RCreateServiceW', undefined],
      ['Service configuration changed', 'RChangeServiceConfigW', undefined],
      ['Service creation', 'RCreateServiceW', true],
    ]);
    const [[create, q], [change], [sealed, sealedQ]] = pairs as [
      (typeof pairs)[0],
      (typeof pairs)[0],
      (typeof pairs)[0],
    ];
    const [name, display, path, type, start, account] = q.fields;
    expect(extra(create)).toMatchObject({
      ServiceName: name,
      DisplayName: display,
      ServiceFileName: path,
      ServiceType: `0x${Number(type).toString(16)}`,
      StartType: start,
    });
    expect(extra(create).ServiceAccount ?? '').toBe(account);
    // tshark does not dissect RChangeServiceConfigW's arguments: services.py's `-path` (README).
    expect(extra(change).ServiceFileName).toBe('cmd.exe /c calc.exe');
    expect(sealedQ.sealed).toBe(true);
    expect(Object.keys(extra(sealed)).filter((k) => k.startsWith('Service'))).toEqual([]);
  });

  it('DFSNM: NetrDfsAddStdRoot and NetrDfsRemoveStdRoot with the server they name', () => {
    const pairs = matched('dfsnm-coerce');
    expect(
      pairs.map(([r, q]) => [extra(r).ServerName, extra(r).RootShare, q.fields.filter(Boolean)]),
    ).toEqual([
      ['10.99.0.20', 'test', ['10.99.0.20', 'test']],
      ['10.99.0.20', 'test', ['10.99.0.20', 'test']],
    ]);
  });

  it('EFSRPC: every file-naming call over both interfaces and TCP, with the listener of UNC names', () => {
    const pairs = matched('efsrpc-coerce');
    expect(pairs.length).toBe(18);
    const names = (r: TableRow) => extra(r).FileNames as string[];
    for (const [r, q] of pairs) {
      // tshark names the file of the c681d488 calls it dissects (opnums 0, 4–7).
      const dissected = q.fields.filter(Boolean);
      if (dissected.length) expect(names(r)).toEqual(dissected);
    }
    const byPipe = (pipe: string) =>
      pairs
        .filter(([r]) => extra(r).Transport === pipe)
        .map(([r]) => [extra(r).Method, names(r), extra(r).Listener]);
    // rpc_client.py sends the same calls over \PIPE\lsarpc and \PIPE\efsrpc, then one with a
    // local path over \PIPE\efsrpc, then one WebDAV-style path over TCP.
    const lsarpc = byPipe('\\PIPE\\lsarpc');
    expect(byPipe('\\PIPE\\efsrpc')).toEqual([
      ...lsarpc,
      ['EfsRpcQueryUsersOnFile', ['C:\\Users\\Public\\report.docx'], undefined],
    ]);
    expect(lsarpc.map(([, n]) => n)).toContainEqual([
      '\\\\10.99.0.20\\share\\a.txt',
      '\\\\10.99.0.20\\share\\b.txt',
    ]);
    expect(byPipe('ncacn_ip_tcp')).toEqual([
      ['EfsRpcOpenFileRaw', ['\\\\10.99.0.20@80\\dav\\settings.ini'], '10.99.0.20'],
    ]);
  });

  it('EFSRPC: Samba rejects both bind contexts, so no request and no row', () => {
    expect(tsharkRequests('efsrpc-samba-rejected.tshark.tsv')).toEqual([]);
    expect(rowsOf(new URL('efsrpc-samba-rejected.pcap', fixtures))).toEqual([]);
  });

  it('ATSVC and ITaskSchedulerService: task scheduling rows with the command', () => {
    const pairs = matched('tsch-atsvc-task');
    const [[job, jobQ], [task]] = pairs as [(typeof pairs)[0], (typeof pairs)[0]];
    expect(extra(job)).toMatchObject({ Method: 'NetrJobAdd', TaskCommand: jobQ.fields[0] });
    // tshark has no MS-TSCH dissector for the task: rpc_client.py's path and atexec.py's XML.
    expect(extra(task)).toMatchObject({
      Method: 'SchRpcRegisterTask',
      TaskName: '\\vHqkBtPw',
      TaskCommand: 'cmd.exe /C whoami > %windir%\\Temp\\vHqkBtPw.tmp 2>&1',
    });
  });

  it('NDR64: the same calls in the transfer syntax Windows peers negotiate, read as tshark reads them', () => {
    const pairs = matched('ndr64');
    const field = (r: TableRow, q: TsharkRequest) => {
      const [level, client, user, service, path, server, root, command] = q.fields;
      const x = extra(r);
      return {
        [SRVSVC]: [x.ClientName, x.UserName, client, user],
        [SVCCTL]: [x.ServiceName, x.ServiceFileName, service, path],
        [DFSNM]: [x.ServerName, x.RootShare, server, root],
        [ATSVC]: [x.TaskCommand, command],
        [EFSR_EFSRPC]: [x.FileNames, x.Listener],
        [TSCH]: [x.TaskName, x.TaskCommand],
        level,
      };
    };
    expect(pairs.map(([r, q]) => field(r, q)[q.uuid as typeof SRVSVC])).toEqual([
      ['\\\\10.99.0.20', 'alice', '\\\\10.99.0.20', 'alice'],
      ['Ndr64Svc', 'C:\\Windows\\Temp\\ndr64.exe', 'Ndr64Svc', 'C:\\Windows\\Temp\\ndr64.exe'],
      ['10.99.0.20', 'ndr64', '10.99.0.20', 'ndr64'],
      // tshark 4.0 does not know df1941c5, nor MS-TSCH tasks: rpc_client.py's arguments.
      [['\\\\10.99.0.20\\ndr64\\settings.ini'], '10.99.0.20'],
      [['\\\\10.99.0.20\\ndr64\\file.txt'], '10.99.0.20'],
      ['cmd.exe /c whoami', 'cmd.exe /c whoami'],
      ['\\Ndr64Task', 'cmd.exe /C whoami > %windir%\\Temp\\vHqkBtPw.tmp 2>&1'],
    ]);
    // NetrSessionEnum's SESSION_ENUM_STRUCT holds a pointer, so NDR64 aligns it to 8 (MS-RPCE
    // §2.2.5.3.4.1); tshark 4.0 reads Level 4 bytes early, from Impacket's padding (0xabababab).
    const [[session, sessionQ]] = pairs as [(typeof pairs)[0]];
    expect([extra(session).Level, sessionQ.fields[0]]).toEqual([10, String(0xabababab)]);
    for (const [r] of pairs) expect(extra(r).StubProblem).toBeUndefined();
  });

  it('matches the rows golden', () => {
    const names = [
      'srvsvc-session-enum',
      'svcctl-remote-service',
      'dfsnm-coerce',
      'efsrpc-coerce',
      'efsrpc-samba-rejected',
      'tsch-atsvc-task',
      'ndr64',
    ];
    const text = names
      .flatMap((n) => [
        `# ${n}.pcap`,
        ...rowsOf(new URL(`${n}.pcap`, fixtures)).map((r) => JSON.stringify(r)),
      ])
      .join('\n');
    const golden = new URL('rows.golden.txt', fixtures);
    if (!existsSync(golden)) writeFileSync(golden, `${text}\n`);
    expect(text).toBe(readFileSync(golden, 'utf8').trimEnd());
  });
});

describe.skipIf(absent !== undefined)('SVCCTL rows in the lab recordings', () => {
  it("reads psexec.py's and smbexec.py's RCreateServiceW in the SMB 2.1 capture as tshark does", () => {
    const rows = rowsOf(new URL('testbed-smb21-cleartext.pcap', corpus));
    const requests = tsharkRequests('smb21-corpus.tshark.tsv').filter((q) =>
      rowOpnums[q.uuid]?.includes(q.opnum),
    );
    expect(rows.map(keyOfRow)).toEqual(requests.map(keyOfRequest));
    expect(
      rows.map((r) => [
        r.values.ActionType,
        r.values.AccountName,
        extra(r).ServiceName,
        extra(r).ServiceFileName,
      ]),
    ).toEqual(requests.map((q) => ['Service creation', 'administrator', q.fields[0], q.fields[1]]));
  });

  it('finds none in the default capture, whose SMB 3.1.1 sessions are encrypted', () => {
    expect(rowsOf(new URL('testbed-default.pcap', corpus))).toEqual([]);
  });
});

describe('stubs that do not read to their end (hand-cut from the fixtures’ real requests)', () => {
  const requests = requestsOf(readFileSync(new URL('svcctl-remote-service.pcap', fixtures)));
  const create = requests.find((c) => c.opnum === 12 && !c.stubEncrypted) as DcerpcCall;
  const rowOf = (stub: Uint8Array) =>
    rpcCallRows({ ...create, stub, stubLength: stub.length }, where, {}, 'x')[0];

  it('keeps what was read before the problem and says where it is', () => {
    // RCreateServiceW: handle (20), lpServiceName at 0x14, lpDisplayName at 0x38, four DWORDs,
    // lpBinaryPathName's counts at 0x74 and its 31 characters from 0x80.
    const cut = rowOf(create.stub.subarray(0, 0x90));
    expect(extra(cut as TableRow)).toMatchObject({
      ServiceName: 'PalisadeSvc',
      DisplayName: 'Palisade Test',
      StubProblem: 'lpBinaryPathName: expected 62 bytes, found 16 left of 144 at 0x80',
    });
    expect(extra(cut as TableRow).ServiceFileName).toBeUndefined();
    const huge = Uint8Array.from(create.stub);
    new DataView(huge.buffer).setUint32(0x7c, 0x7fffffff, true); // lpBinaryPathName's actual count
    expect(extra(rowOf(huge) as TableRow).StubProblem).toBe(
      'lpBinaryPathName: expected offset 0 and 1 to 32768 characters within the maximum count, found maximum 31, offset 0, actual 2147483647 at 0x74',
    );
    expect(extra(rowOf(new Uint8Array(0)) as TableRow)).toMatchObject({
      Method: 'RCreateServiceW',
      StubProblem: 'hSCManager: expected 20 bytes, found 0 left of 0 at 0x0',
    });
  });
});

describe('uncHost', () => {
  it('names the host of UNC, WebDAV and \\\\?\\UNC paths, and nothing for local ones', () => {
    expect(
      [
        '\\\\10.0.0.9\\share\\x',
        '\\\\attacker@80\\dav\\x',
        '\\\\?\\UNC\\relay.corp.local\\s\\x',
        '//host/share',
        'C:\\x',
        '\\\\?\\C:\\x',
        '\\\\.\\pipe\\x',
        '\\\\',
      ].map(uncHost),
    ).toEqual([
      '10.0.0.9',
      'attacker',
      'relay.corp.local',
      'host',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
