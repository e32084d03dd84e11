// SMB2 decoder and connection on messages built from MS-SMB2 §2.2: negotiate with contexts,
// session setup outcomes, tree connects, creates, named-pipe DCE/RPC over WRITE/READ and
// FSCTL_PIPE_TRANSCEIVE (also compounded and async), encrypted, compressed and SMB1 messages,
// NetBIOS framing, broken input, and 10,000 mutated streams that must never throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSmb2Message,
  FSCTL_PIPE_TRANSCEIVE,
  type Smb2Packet,
  smb2DialectName,
} from '../src/smb2-decoder.ts';
import { Smb2Connection, type Smb2Event } from '../src/smb2-stream.ts';

const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const le64 = (n: number) => [...le32(n % 0x1_0000_0000), ...le32(Math.floor(n / 0x1_0000_0000))];
const utf16 = (s: string) => [...Buffer.from(s, 'utf16le')];
const zeros = (n: number) => new Array<number>(n).fill(0);
const pad8 = (b: number[]) => [...b, ...zeros((8 - (b.length % 8)) % 8)];

/** A GUID-shaped identifier's 16 bytes, as FileIds and ClientGuids sit on the wire. */
function guid(text: string): number[] {
  const b = Array.from(Buffer.from(text.replace(/-/g, ''), 'hex'));
  return [b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.slice(8)] as number[];
}

interface Header {
  command: number;
  messageId: number;
  response?: boolean;
  status?: number;
  treeId?: number;
  sessionId?: number;
  related?: boolean;
  asyncId?: number;
  nextCommand?: number;
}

/** The 64-byte header (MS-SMB2 §2.2.1). */
function header(h: Header): number[] {
  const flags = (h.response ? 1 : 0) | (h.asyncId !== undefined ? 2 : 0) | (h.related ? 4 : 0);
  return [
    0xfe,
    0x53,
    0x4d,
    0x42,
    ...le16(64),
    ...le16(1),
    ...le32(h.status ?? 0),
    ...le16(h.command),
    ...le16(1),
    ...le32(flags),
    ...le32(h.nextCommand ?? 0),
    ...le64(h.messageId),
    ...(h.asyncId !== undefined ? le64(h.asyncId) : [...le32(0), ...le32(h.treeId ?? 0)]),
    ...le64(h.sessionId ?? 0),
    ...zeros(16),
  ];
}

const message = (h: Header, body: number[]) => Uint8Array.from([...header(h), ...body]);
const frame = (m: Uint8Array) =>
  Uint8Array.from([0, (m.length >> 16) & 0xff, (m.length >> 8) & 0xff, m.length & 0xff, ...m]);

/** Commands joined into one compounded message (MS-SMB2 §3.2.4.1.4): NextCommand 8-aligned. */
function compound(parts: [Header, number[]][]): Uint8Array {
  const out: number[] = [];
  parts.forEach(([h, body], i) => {
    const last = i === parts.length - 1;
    const size = 64 + body.length;
    const aligned = last ? size : size + ((8 - (size % 8)) % 8);
    out.push(...header({ ...h, nextCommand: last ? 0 : aligned }), ...body, ...zeros(aligned - size));
  });
  return Uint8Array.from(out);
}

const NEGOTIATE = 0;
const SESSION_SETUP = 1;
const TREE_CONNECT = 3;
const CREATE = 5;
const CLOSE = 6;
const READ = 8;
const WRITE = 9;
const IOCTL = 11;
const ALL_ONES = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
const PIPE = '8c5a1433-0000-0000-b641-632800000000';

const bodies = {
  negotiateRequest(dialects: number[]): number[] {
    const contexts = [
      pad8([...le16(1), ...le16(6), ...le32(0), ...le16(1), ...le16(0), ...le16(1)]),
      pad8([...le16(2), ...le16(6), ...le32(0), ...le16(2), ...le16(2), ...le16(1)]),
      [...le16(8), ...le16(6), ...le32(0), ...le16(2), ...le16(1), ...le16(0)],
    ];
    const fixed = 36 + dialects.length * 2;
    const contextOffset = 64 + fixed + ((8 - ((64 + fixed) % 8)) % 8);
    return [
      ...le16(36),
      ...le16(dialects.length),
      ...le16(1),
      ...le16(0),
      ...le32(0x7f),
      ...guid('89b60c5f-feaf-406e-9e09-bb411cd4fb1c'),
      ...le32(contextOffset),
      ...le16(contexts.length),
      ...le16(0),
      ...pad8(dialects.flatMap(le16)).slice(0, contextOffset - 64 - 36),
      ...contexts.flat(),
    ];
  },
  negotiateResponse(dialect: number, token: number[]): number[] {
    return [
      ...le16(65),
      ...le16(3),
      ...le16(dialect),
      ...le16(0),
      ...guid('00316364-0000-0000-0000-000000000000'),
      ...le32(7),
      ...le32(8 << 20),
      ...le32(8 << 20),
      ...le32(8 << 20),
      ...zeros(16),
      ...le16(128),
      ...le16(token.length),
      ...le32(0),
      ...token,
    ];
  },
  sessionSetupRequest: (token: number[]) => [
    ...le16(25),
    0,
    1,
    ...le32(1),
    ...le32(0),
    ...le16(88),
    ...le16(token.length),
    ...le64(0),
    ...token,
  ],
  sessionSetupResponse: (flags: number, token: number[]) => [
    ...le16(9),
    ...le16(flags),
    ...le16(72),
    ...le16(token.length),
    ...token,
  ],
  error: () => [...le16(9), 0, 0, ...le32(0), 0],
  treeConnectRequest: (path: string) => [
    ...le16(9),
    ...le16(0),
    ...le16(72),
    ...le16(path.length * 2),
    ...utf16(path),
  ],
  treeConnectResponse: (shareType: number) => [
    ...le16(16),
    shareType,
    0,
    ...le32(0x30),
    ...le32(0),
    ...le32(0x1f01ff),
  ],
  createRequest(name: string, contexts: string[] = []): number[] {
    const nameBytes = pad8(utf16(name));
    const ctx = contexts.flatMap((n, i) => [
      ...le32(i === contexts.length - 1 ? 0 : 24),
      ...le16(16),
      ...le16(4),
      ...le16(0),
      ...le16(0),
      ...le32(0),
      ...Buffer.from(n, 'latin1'),
      ...zeros(4),
    ]);
    return [
      ...le16(57),
      0,
      0,
      ...le32(2),
      ...zeros(16),
      ...le32(0x0012019f),
      ...le32(0),
      ...le32(7),
      ...le32(1),
      ...le32(0x400040),
      ...le16(120),
      ...le16(name.length * 2),
      ...le32(contexts.length ? 120 + nameBytes.length : 0),
      ...le32(ctx.length),
      ...nameBytes,
      ...ctx,
    ];
  },
  createResponse: (fileId: string) => [
    ...le16(89),
    0,
    0,
    ...le32(1),
    ...zeros(32),
    ...le64(4096),
    ...le64(0),
    ...le32(0x80),
    ...le32(0),
    ...guid(fileId),
    ...le32(0),
    ...le32(0),
  ],
  closeRequest: (fileId: string) => [...le16(24), ...le16(0), ...le32(0), ...guid(fileId)],
  closeResponse: () => [...le16(60), ...zeros(58)],
  writeRequest: (fileId: string, data: number[]) => [
    ...le16(49),
    ...le16(112),
    ...le32(data.length),
    ...le64(0),
    ...guid(fileId),
    ...zeros(16),
    ...data,
  ],
  writeResponse: (count: number) => [...le16(17), ...le16(0), ...le32(count), ...zeros(8)],
  readRequest: (fileId: string) => [
    ...le16(49),
    0,
    0,
    ...le32(4280),
    ...le64(0),
    ...guid(fileId),
    ...zeros(17),
  ],
  readResponse: (data: number[]) => [
    ...le16(17),
    80,
    0,
    ...le32(data.length),
    ...le32(0),
    ...le32(0),
    ...data,
  ],
  ioctlRequest: (fileId: string, input: number[]) => [
    ...le16(57),
    ...le16(0),
    ...le32(FSCTL_PIPE_TRANSCEIVE),
    ...guid(fileId),
    ...le32(120),
    ...le32(input.length),
    ...le32(0),
    ...le32(120),
    ...le32(0),
    ...le32(4280),
    ...le32(1),
    ...le32(0),
    ...input,
  ],
  ioctlResponse: (fileId: string, output: number[]) => [
    ...le16(49),
    ...le16(0),
    ...le32(FSCTL_PIPE_TRANSCEIVE),
    ...guid(fileId),
    ...le32(112),
    ...le32(0),
    ...le32(112),
    ...le32(output.length),
    ...le32(0),
    ...le32(0),
    ...output,
  ],
};

// Minimal DCE/RPC PDUs for the pipe (C706 §12.6): a bind to SVCCTL and an RCreateServiceW call.
const SVCCTL = [
  0x81, 0xbb, 0x7a, 0x36, 0x44, 0x98, 0xf1, 0x35, 0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10, 0x03,
];
const NDR = [0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60];
function rpc(ptype: number, callId: number, body: number[]): number[] {
  return [5, 0, ptype, 3, 0x10, 0, 0, 0, ...le16(16 + body.length), ...le16(0), ...le32(callId), ...body];
}
const rpcBind = rpc(11, 1, [
  ...le16(4280),
  ...le16(4280),
  ...le32(0),
  1,
  0,
  0,
  0,
  ...le16(0),
  1,
  0,
  ...SVCCTL,
  ...le16(2),
  ...le16(0),
  ...NDR,
  ...le32(2),
]);
const rpcBindAck = rpc(12, 1, [
  ...le16(4280),
  ...le16(4280),
  ...le32(1),
  ...le16(13),
  ...Buffer.from('\\PIPE\\svcctl\0'),
  0,
  1,
  0,
  0,
  0,
  ...le16(0),
  ...le16(0),
  ...NDR,
  ...le32(2),
]);
const rpcRequest = (callId: number, opnum: number) =>
  rpc(0, callId, [...le32(8), ...le16(0), ...le16(opnum), ...zeros(8)]);
const rpcResponse = (callId: number) => rpc(2, callId, [...le32(4), ...le16(0), 0, 0, ...zeros(4)]);

/** Feeds whole messages, alternating as listed, and describes every event. */
function run(steps: ['toServer' | 'toClient', Uint8Array][]): { events: string[]; diagnostics: string[] } {
  const smb = new Smb2Connection();
  const events: string[] = [];
  const diagnostics: string[] = [];
  for (const [direction, m] of steps) {
    const result = smb.push(direction, frame(m));
    events.push(...result.events.flatMap(describeEvent));
    diagnostics.push(...result.diagnostics.map((d) => `${d.code}: ${d.message}`));
  }
  diagnostics.push(...smb.end().map((d) => `${d.code}: ${d.message}`));
  return { events, diagnostics };
}

function describeEvent(e: Smb2Event): string[] {
  switch (e.kind) {
    case 'packet':
      return [];
    case 'sessionSetup':
      return [
        `sessionSetup ${e.sessionId} ${e.statusName} in=${e.requestSecurityBuffer?.length} out=${e.responseSecurityBuffer?.length}`,
      ];
    case 'treeConnect':
      return [`treeConnect ${e.path} ${e.statusName} tree=${e.treeId} type=${e.shareType}`];
    case 'create':
      return [`create ${e.share}\\${e.name} pipe=${e.isPipe} ${e.statusName} ${e.fileId}`];
    case 'rpc': {
      const r = e.rpc;
      const what =
        r.kind === 'pdu'
          ? `${r.pdu.kind} call=${r.pdu.header.callId}`
          : `${r.call.type} call=${r.call.callId} ${r.call.interface?.name}.${r.call.opnumName}`;
      return [`rpc ${e.pipe.name} ${r.direction} ${what}`];
    }
  }
}

function decode(m: Uint8Array): Smb2Packet | undefined {
  const { value, diagnostics } = decodeSmb2Message(m);
  expect(diagnostics).toEqual([]);
  return value;
}

describe('messages built from MS-SMB2 §2.2', () => {
  it('decodes a NEGOTIATE request with its contexts and the dialect the server chose', () => {
    const request = decode(
      message(
        { command: NEGOTIATE, messageId: 0 },
        bodies.negotiateRequest([0x202, 0x210, 0x300, 0x302, 0x311]),
      ),
    );
    expect(request).toMatchObject({
      kind: 'smb2',
      commands: [
        {
          header: {
            command: 0,
            commandName: 'NEGOTIATE',
            isResponse: false,
            messageId: 0,
            treeId: 0,
            sessionId: '0x0000000000000000',
          },
          body: {
            kind: 'negotiateRequest',
            dialects: [0x202, 0x210, 0x300, 0x302, 0x311],
            clientGuid: '89b60c5f-feaf-406e-9e09-bb411cd4fb1c',
            negotiateContexts: [
              { contextType: 1, dataLength: 6 },
              { contextType: 2, dataLength: 6, ciphers: [2, 1] },
              { contextType: 8, dataLength: 6, signingAlgorithms: [1, 0] },
            ],
          },
        },
      ],
    });
    const response = decode(
      message(
        { command: NEGOTIATE, messageId: 0, response: true },
        bodies.negotiateResponse(0x210, [0x60, 0x01]),
      ),
    );
    expect(response).toMatchObject({
      commands: [
        {
          body: {
            kind: 'negotiateResponse',
            dialectRevision: 0x210,
            dialectName: '2.1',
            securityBuffer: Uint8Array.from([0x60, 1]),
          },
        },
      ],
    });
    expect([0x202, 0x2ff, 0x311, 0x399].map(smb2DialectName)).toEqual(['2.0.2', '2.???', '3.1.1', '0x0399']);
  });

  it('tells a session setup in progress from a failed one', () => {
    const more = decode(
      message(
        { command: SESSION_SETUP, messageId: 1, response: true, status: 0xc0000016, sessionId: 0x5a200731 },
        bodies.sessionSetupResponse(0, [1, 2, 3]),
      ),
    );
    expect(more).toMatchObject({
      commands: [
        {
          header: { statusName: 'STATUS_MORE_PROCESSING_REQUIRED', sessionId: '0x000000005a200731' },
          body: { kind: 'sessionSetupResponse', sessionFlags: 0, securityBuffer: Uint8Array.from([1, 2, 3]) },
        },
      ],
    });
    const failed = decode(
      message({ command: SESSION_SETUP, messageId: 2, response: true, status: 0xc000006d }, bodies.error()),
    );
    expect(failed).toMatchObject({
      commands: [
        {
          header: { statusName: 'STATUS_LOGON_FAILURE' },
          body: { kind: 'errorResponse', errorContextCount: 0, byteCount: 0 },
        },
      ],
    });
  });

  it('reads tree connect paths, with and without the 3.1.1 extension', () => {
    const plain = decode(
      message({ command: TREE_CONNECT, messageId: 3 }, bodies.treeConnectRequest('\\\\dc1\\ADMIN$')),
    );
    expect(plain).toMatchObject({
      commands: [{ body: { kind: 'treeConnectRequest', flags: 0, path: '\\\\dc1\\ADMIN$' } }],
    });
    const path = utf16('\\\\dc1\\C$');
    // Flags 0x4: the Buffer starts with TreeConnectContextOffset, Count and 10 reserved bytes.
    const extended = [
      ...le16(9),
      ...le16(4),
      ...le16(72),
      ...le16(16 + path.length),
      ...le32(8 + 16 + path.length),
      ...le16(0),
      ...zeros(10),
      ...path,
    ];
    expect(decode(message({ command: TREE_CONNECT, messageId: 3 }, extended))).toMatchObject({
      commands: [{ body: { kind: 'treeConnectRequest', flags: 4, path: '\\\\dc1\\C$' } }],
    });
  });

  it('reads CREATE names, create context names and the new file id', () => {
    expect(
      decode(message({ command: CREATE, messageId: 5 }, bodies.createRequest('lsarpc', ['MxAc', 'QFid']))),
    ).toMatchObject({
      commands: [
        {
          body: {
            kind: 'createRequest',
            name: 'lsarpc',
            createContexts: ['MxAc', 'QFid'],
            desiredAccess: 0x0012019f,
          },
        },
      ],
    });
    expect(
      decode(message({ command: CREATE, messageId: 5, response: true }, bodies.createResponse(PIPE))),
    ).toMatchObject({
      commands: [{ body: { kind: 'createResponse', fileId: PIPE, createAction: 1, endOfFile: 0 } }],
    });
  });

  it('reports encrypted and compressed messages without looking inside, and SMB1 negotiates', () => {
    const transform = Uint8Array.from([
      0xfd,
      0x53,
      0x4d,
      0x42,
      ...zeros(16),
      ...Array.from({ length: 16 }, (_, i) => i),
      ...le32(106),
      ...le16(0),
      ...le16(1),
      ...le64(0x78f03cfa),
      ...zeros(106),
    ]);
    expect(decode(transform)).toEqual({
      kind: 'encrypted',
      transform: {
        nonce: Uint8Array.from({ length: 16 }, (_, i) => i),
        originalMessageSize: 106,
        flags: 1,
        sessionId: '0x0000000078f03cfa',
      },
      size: transform.length,
    });
    expect(
      decode(Uint8Array.from([0xfc, 0x53, 0x4d, 0x42, ...le32(4096), ...le16(1), ...le16(0), ...le32(0)])),
    ).toEqual({
      kind: 'compressed',
      originalCompressedSegmentSize: 4096,
      compressionAlgorithm: 1,
      flags: 0,
    });
    const dialects = ['NT LM 0.12', 'SMB 2.002', 'SMB 2.???'].flatMap((d) => [
      2,
      ...Buffer.from(`${d}\0`, 'latin1'),
    ]);
    const smb1 = Uint8Array.from([
      0xff,
      0x53,
      0x4d,
      0x42,
      0x72,
      ...zeros(4),
      0x18,
      ...le16(0xc853),
      ...zeros(20),
      0,
      ...le16(dialects.length),
      ...dialects,
    ]);
    expect(decode(smb1)).toEqual({
      kind: 'smb1',
      command: 0x72,
      status: 0,
      isResponse: false,
      dialects: ['NT LM 0.12', 'SMB 2.002', 'SMB 2.???'],
    });
  });

  it('reports broken messages with the field and offset', () => {
    const report = (m: Uint8Array) =>
      decodeSmb2Message(m, 0x100).diagnostics.map((d) => `${d.code}: ${d.message}`);
    expect(report(Uint8Array.from([0x00, 0x53, 0x4d, 0x42, 0, 0]))).toEqual([
      'smb2/bad-header: ProtocolId: expected FE 53 4D 42, FD 53 4D 42, FC 53 4D 42 or FF 53 4D 42, found 00 53 4d 42 at 0x100',
    ]);
    const write = message({ command: WRITE, messageId: 9 }, bodies.writeRequest(PIPE, [1, 2, 3]));
    expect(report(write.subarray(0, 70))).toEqual([
      'smb2/truncated: Length: expected 4 bytes, found 2 left of 70 at 0x144',
    ]);
    const lowOffset = Uint8Array.from(write);
    lowOffset[66] = 10;
    expect(report(lowOffset)).toEqual([
      'smb2/bad-offset: write data offset: expected an offset past the 64-byte header, found 10 at 0x100',
    ]);
    const badChain = compound([
      [{ command: CLOSE, messageId: 1 }, bodies.closeRequest(PIPE)],
      [{ command: CLOSE, messageId: 2 }, bodies.closeRequest(PIPE)],
    ]);
    badChain[20] = 200;
    const { value, diagnostics } = decodeSmb2Message(badChain, 0x100);
    expect(value).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(['smb2/bad-offset']);
  });
});

describe('Smb2Connection', () => {
  const setup = [
    ['toServer', message({ command: SESSION_SETUP, messageId: 1 }, bodies.sessionSetupRequest([0x60, 0x48]))],
    [
      'toClient',
      message(
        { command: SESSION_SETUP, messageId: 1, response: true, status: 0xc0000016, sessionId: 7 },
        bodies.sessionSetupResponse(0, [0xa1, 0x81]),
      ),
    ],
    [
      'toServer',
      message(
        { command: SESSION_SETUP, messageId: 2, sessionId: 7 },
        bodies.sessionSetupRequest([0xa1, 0x82, 0x01]),
      ),
    ],
    [
      'toClient',
      message(
        { command: SESSION_SETUP, messageId: 2, response: true, sessionId: 7 },
        bodies.sessionSetupResponse(0, [0xa1, 0x1b]),
      ),
    ],
    [
      'toServer',
      message(
        { command: TREE_CONNECT, messageId: 3, sessionId: 7 },
        bodies.treeConnectRequest('\\\\dc1\\IPC$'),
      ),
    ],
    [
      'toClient',
      message(
        { command: TREE_CONNECT, messageId: 3, response: true, sessionId: 7, treeId: 5 },
        bodies.treeConnectResponse(2),
      ),
    ],
    [
      'toServer',
      message({ command: CREATE, messageId: 4, sessionId: 7, treeId: 5 }, bodies.createRequest('svcctl')),
    ],
    [
      'toClient',
      message(
        { command: CREATE, messageId: 4, response: true, sessionId: 7, treeId: 5 },
        bodies.createResponse(PIPE),
      ),
    ],
  ] as ['toServer' | 'toClient', Uint8Array][];
  const opened = [
    'sessionSetup 0x0000000000000007 STATUS_MORE_PROCESSING_REQUIRED in=2 out=2',
    'sessionSetup 0x0000000000000007 STATUS_SUCCESS in=3 out=2',
    'treeConnect \\\\dc1\\IPC$ STATUS_SUCCESS tree=5 type=2',
    `create \\\\dc1\\IPC$\\svcctl pipe=true STATUS_SUCCESS ${PIPE}`,
  ];
  const on = { sessionId: 7, treeId: 5 };

  it('follows DCE/RPC over WRITE and READ on a named pipe', () => {
    const { events, diagnostics } = run([
      ...setup,
      ['toServer', message({ command: WRITE, messageId: 5, ...on }, bodies.writeRequest(PIPE, rpcBind))],
      [
        'toClient',
        message(
          { command: WRITE, messageId: 5, response: true, ...on },
          bodies.writeResponse(rpcBind.length),
        ),
      ],
      ['toServer', message({ command: READ, messageId: 6, ...on }, bodies.readRequest(PIPE))],
      [
        'toClient',
        message({ command: READ, messageId: 6, response: true, ...on }, bodies.readResponse(rpcBindAck)),
      ],
      [
        'toServer',
        message({ command: WRITE, messageId: 7, ...on }, bodies.writeRequest(PIPE, rpcRequest(2, 12))),
      ],
      ['toServer', message({ command: CLOSE, messageId: 8, ...on }, bodies.closeRequest(PIPE))],
      ['toClient', message({ command: CLOSE, messageId: 8, response: true, ...on }, bodies.closeResponse())],
    ]);
    expect(diagnostics).toEqual([]);
    expect(events).toEqual([
      ...opened,
      'rpc svcctl toServer bind call=1',
      'rpc svcctl toClient bindAck call=1',
      'rpc svcctl toServer request call=2 SVCCTL.RCreateServiceW',
    ]);
  });

  it('follows FSCTL_PIPE_TRANSCEIVE, through an interim STATUS_PENDING answer', () => {
    const { events, diagnostics } = run([
      ...setup,
      ['toServer', message({ command: IOCTL, messageId: 5, ...on }, bodies.ioctlRequest(PIPE, rpcBind))],
      [
        'toClient',
        message(
          { command: IOCTL, messageId: 5, response: true, status: 0x103, asyncId: 9, sessionId: 7 },
          bodies.error(),
        ),
      ],
      [
        'toClient',
        message(
          { command: IOCTL, messageId: 5, response: true, asyncId: 9, sessionId: 7 },
          bodies.ioctlResponse(PIPE, rpcBindAck),
        ),
      ],
      [
        'toServer',
        message({ command: IOCTL, messageId: 6, ...on }, bodies.ioctlRequest(PIPE, rpcRequest(2, 15))),
      ],
      [
        'toClient',
        message(
          { command: IOCTL, messageId: 6, response: true, ...on },
          bodies.ioctlResponse(PIPE, rpcResponse(2)),
        ),
      ],
    ]);
    expect(diagnostics).toEqual([]);
    expect(events).toEqual([
      ...opened,
      'rpc svcctl toServer bind call=1',
      'rpc svcctl toClient bindAck call=1',
      'rpc svcctl toServer request call=2 SVCCTL.ROpenSCManagerW',
      'rpc svcctl toClient response call=2 SVCCTL.ROpenSCManagerW',
    ]);
  });

  it('resolves the placeholder FileId of related compounded requests', () => {
    const request = compound([
      [{ command: CREATE, messageId: 4, ...on }, bodies.createRequest('svcctl')],
      [{ command: WRITE, messageId: 5, related: true, ...on }, bodies.writeRequest(ALL_ONES, rpcBind)],
      [{ command: READ, messageId: 6, related: true, ...on }, bodies.readRequest(ALL_ONES)],
    ]);
    const response = compound([
      [{ command: CREATE, messageId: 4, response: true, ...on }, bodies.createResponse(PIPE)],
      [
        { command: WRITE, messageId: 5, response: true, related: true, ...on },
        bodies.writeResponse(rpcBind.length),
      ],
      [
        { command: READ, messageId: 6, response: true, related: true, ...on },
        bodies.readResponse(rpcBindAck),
      ],
    ]);
    const { events, diagnostics } = run([
      ...setup.slice(0, 6),
      ['toServer', request],
      ['toClient', response],
    ]);
    expect(diagnostics).toEqual([]);
    expect(events).toEqual([
      ...opened,
      'rpc svcctl toServer bind call=1',
      'rpc svcctl toClient bindAck call=1',
    ]);
  });

  it('adopts a pipe opened before the capture began once DCE/RPC shows up on it', () => {
    const { events, diagnostics } = run([
      [
        'toServer',
        message({ command: IOCTL, messageId: 40, ...on }, bodies.ioctlRequest(PIPE, rpcRequest(9, 19))),
      ],
      [
        'toClient',
        message(
          { command: IOCTL, messageId: 40, response: true, ...on },
          bodies.ioctlResponse(PIPE, rpcResponse(9)),
        ),
      ],
    ]);
    expect(diagnostics).toEqual([]);
    // Without the bind the interface is unknown, but the opnum and call still show.
    expect(events).toEqual([
      'rpc  toServer request call=9 undefined.undefined',
      'rpc  toClient response call=9 undefined.undefined',
    ]);
  });

  it('frames NetBIOS session messages whatever the segment boundaries, skipping keep-alives', () => {
    const stream = Uint8Array.from([
      0x85,
      0,
      0,
      0,
      ...frame(
        message({ command: TREE_CONNECT, messageId: 3 }, bodies.treeConnectRequest('\\\\dc1\\ADMIN$')),
      ),
      ...frame(message({ command: CREATE, messageId: 4 }, bodies.createRequest('x.exe'))),
    ]);
    for (const size of [1, 3, 4, 7, 50, stream.length]) {
      const smb = new Smb2Connection();
      const kinds: string[] = [];
      for (let i = 0; i < stream.length; i += size) {
        const { events, diagnostics } = smb.push('toServer', stream.subarray(i, i + size));
        expect(diagnostics).toEqual([]);
        for (const e of events)
          if (e.kind === 'packet' && e.packet.kind === 'smb2')
            kinds.push(...e.packet.commands.map((c) => c.body.kind));
      }
      expect(kinds).toEqual(['treeConnectRequest', 'createRequest']);
      expect(smb.end()).toEqual([]);
    }
  });

  it('copies what it keeps between pushes, so a capture may reuse its packet buffer', () => {
    const m = frame(
      message({ command: TREE_CONNECT, messageId: 3 }, bodies.treeConnectRequest('\\\\dc1\\ADMIN$')),
    );
    const smb = new Smb2Connection();
    const reused = new Uint8Array(m.length);
    reused.set(m.subarray(0, 40));
    smb.push('toServer', reused.subarray(0, 40));
    reused.fill(0xee);
    reused.set(m.subarray(40));
    const [event] = smb.push('toServer', reused.subarray(0, m.length - 40)).events;
    const packet = event?.kind === 'packet' ? event.packet : undefined;
    expect(packet?.kind === 'smb2' && packet.commands[0]?.body).toEqual({
      kind: 'treeConnectRequest',
      flags: 0,
      path: '\\\\dc1\\ADMIN$',
    });
  });

  it('skips to the next message after bytes that do not frame, and after a capture gap', () => {
    const good = frame(message({ command: CREATE, messageId: 4 }, bodies.createRequest('samr')));
    const smb = new Smb2Connection();
    const { events, diagnostics } = smb.push(
      'toServer',
      Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, ...good]),
    );
    expect(events.map((e) => e.kind)).toEqual(['packet']);
    expect(diagnostics.map((d) => `${d.code} @${d.offset}`)).toEqual(['smb2/lost-sync @0']);
    smb.push('toServer', good.subarray(0, 30));
    expect(smb.gap('toServer', 100).map((d) => d.code)).toEqual(['smb2/lost-sync']);
    expect(smb.push('toServer', good).events.map((e) => e.kind)).toEqual(['packet']);
    smb.push('toClient', good.subarray(0, 10));
    expect(smb.end().map((d) => d.code)).toEqual(['smb2/truncated']);
  });
});

describe('10,000 mutated SMB2 streams', () => {
  const steps = [
    message({ command: NEGOTIATE, messageId: 0 }, bodies.negotiateRequest([0x202, 0x311])),
    message(
      { command: SESSION_SETUP, messageId: 1, response: true, status: 0xc0000016 },
      bodies.sessionSetupResponse(0, [1, 2]),
    ),
    message({ command: TREE_CONNECT, messageId: 3 }, bodies.treeConnectRequest('\\\\dc1\\IPC$')),
    message(
      { command: TREE_CONNECT, messageId: 3, response: true, treeId: 5 },
      bodies.treeConnectResponse(2),
    ),
    message({ command: CREATE, messageId: 4, treeId: 5 }, bodies.createRequest('svcctl', ['MxAc'])),
    message({ command: CREATE, messageId: 4, response: true, treeId: 5 }, bodies.createResponse(PIPE)),
    message({ command: IOCTL, messageId: 5, treeId: 5 }, bodies.ioctlRequest(PIPE, rpcBind)),
    message(
      { command: IOCTL, messageId: 5, response: true, treeId: 5 },
      bodies.ioctlResponse(PIPE, rpcBindAck),
    ),
    compound([
      [{ command: WRITE, messageId: 6, treeId: 5 }, bodies.writeRequest(PIPE, rpcRequest(2, 12))],
      [{ command: READ, messageId: 7, related: true, treeId: 5 }, bodies.readRequest(ALL_ONES)],
    ]),
    message({ command: READ, messageId: 7, response: true, treeId: 5 }, bodies.readResponse(rpcResponse(2))),
  ].map(frame);
  const stream = Uint8Array.from(steps.flatMap((s) => [...s]));

  it('never throw out of the decoder or the connection', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }),
        fc.nat(),
        fc.array(fc.nat(200), { maxLength: 6 }),
        (flips, cut, splits) => {
          const b = Uint8Array.from(stream);
          for (const [at, value] of flips) b[at % b.length] = value;
          const bytes = b.subarray(0, cut % (b.length + 1));
          decodeSmb2Message(bytes.subarray(4));
          const smb = new Smb2Connection();
          let at = 0;
          for (const s of splits) {
            smb.push(at % 2 === 0 ? 'toServer' : 'toClient', bytes.subarray(at, at + s));
            at += s;
          }
          smb.push('toServer', bytes.subarray(at));
          smb.push('toClient', bytes);
          smb.end();
        },
      ),
      { numRuns: 10_000, seed: 445 },
    );
  }, 60_000);
});
