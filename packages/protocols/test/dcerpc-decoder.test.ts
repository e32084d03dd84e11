// DCE/RPC decoders on PDUs built from C706 §12.6 and MS-RPCE §2.2.2: every PDU type, the auth
// verifier, both byte orders, stream framing and resynchronisation, call reassembly with its
// limits, the interface table, and 10,000 mutated PDUs that must never throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dcerpcFaultStatusName,
  decodeDcerpcPdu,
  PFC_FIRST_FRAG,
  PFC_LAST_FRAG,
  PFC_OBJECT_UUID,
} from '../src/dcerpc-decoder.ts';
import {
  dcerpcInterfaces,
  dcerpcOpnumName,
  findDcerpcInterface,
  transferSyntaxName,
} from '../src/dcerpc-interfaces.ts';
import { DcerpcConnection, type DcerpcEvent, DcerpcStream } from '../src/dcerpc-stream.ts';

const SAMR = '12345778-1234-abcd-ef00-0123456789ac';
const DRSUAPI = 'e3514235-4b06-11d1-ab04-00c04fc2dcd2';
const NDR = '8a885d04-1ceb-11c9-9fe8-08002b104860';
const NDR64 = '71710533-beba-4937-8319-b5dbef9ccc36';
const BIND_TIME = '6cb71c2c-9812-4540-0300-000000000000';
const BOTH = PFC_FIRST_FRAG | PFC_LAST_FRAG;

// Little-endian (or big-endian) writers for building PDUs.
const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

/** A UUID's 16 bytes; the first three fields in the given byte order (C706 Appendix A). */
function uuid(text: string, little = true): number[] {
  const h = text.replace(/-/g, '');
  const b = Array.from(Buffer.from(h, 'hex'));
  if (!little) return b;
  return [b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.slice(8)] as number[];
}

const syntax = (id: string, major: number, minor: number) => [...uuid(id), ...le16(major), ...le16(minor)];

interface Auth {
  type: number;
  level: number;
  pad: number;
  token: number[];
}

/** A whole PDU: common header, body, auth padding and sec_trailer (MS-RPCE §2.2.2.11). */
function pdu(
  ptype: number,
  flags: number,
  callId: number,
  body: number[],
  auth?: Auth,
  little = true,
): Uint8Array {
  const padding = auth ? new Array(auth.pad).fill(0) : [];
  const trailer = auth ? [auth.type, auth.level, auth.pad, 0, ...le32(0x11223344), ...auth.token] : [];
  const fragLength = 16 + body.length + padding.length + trailer.length;
  const u16 = little ? le16 : be16;
  const u32 = little ? le32 : be32;
  return Uint8Array.from([
    5,
    0,
    ptype,
    flags,
    little ? 0x10 : 0x00,
    0,
    0,
    0,
    ...u16(fragLength),
    ...u16(auth ? auth.token.length : 0),
    ...u32(callId),
    ...body,
    ...padding,
    ...trailer,
  ]);
}

const ntlmNegotiate = [
  ...Buffer.from('NTLMSSP\0', 'latin1'),
  ...le32(1),
  ...le32(0xe2088297),
  ...new Array(16).fill(0),
];

function bindBody(contexts: { id: number; iface: number[]; transfers: number[][] }[]): number[] {
  return [
    ...le16(4280),
    ...le16(4280),
    ...le32(0),
    contexts.length,
    0,
    0,
    0,
    ...contexts.flatMap((c) => [...le16(c.id), c.transfers.length, 0, ...c.iface, ...c.transfers.flat()]),
  ];
}

const requestBody = (ctx: number, opnum: number, stub: number[], object?: string) => [
  ...le32(stub.length),
  ...le16(ctx),
  ...le16(opnum),
  ...(object ? uuid(object) : []),
  ...stub,
];
const responseBody = (ctx: number, stub: number[]) => [...le32(stub.length), ...le16(ctx), 0, 0, ...stub];

describe('PDUs built from C706 §12.6 and MS-RPCE §2.2.2', () => {
  it('decodes a bind with its presentation contexts and NTLMSSP verifier', () => {
    const bytes = pdu(
      11,
      BOTH,
      1,
      bindBody([
        { id: 0, iface: syntax(SAMR, 1, 0), transfers: [syntax(NDR, 2, 0), syntax(NDR64, 1, 0)] },
        { id: 1, iface: syntax(SAMR, 1, 0), transfers: [syntax(BIND_TIME, 1, 0)] },
      ]),
      { type: 10, level: 6, pad: 0, token: ntlmNegotiate },
    );
    const { value, diagnostics } = decodeDcerpcPdu(bytes);
    expect(diagnostics).toEqual([]);
    expect(value).toEqual({
      kind: 'bind',
      header: {
        rpcVers: 5,
        rpcVersMinor: 0,
        ptype: 11,
        pfcFlags: 3,
        firstFrag: true,
        lastFrag: true,
        littleEndian: true,
        fragLength: bytes.length,
        authLength: ntlmNegotiate.length,
        callId: 1,
      },
      auth: {
        authType: 10,
        authTypeName: 'ntlmssp',
        authLevel: 6,
        authLevelName: 'privacy',
        authPadLength: 0,
        authContextId: 0x11223344,
        authValue: Uint8Array.from(ntlmNegotiate),
      },
      maxXmitFrag: 4280,
      maxRecvFrag: 4280,
      assocGroupId: 0,
      contexts: [
        {
          pContId: 0,
          abstractSyntax: { uuid: SAMR, versionMajor: 1, versionMinor: 0, name: 'SAMR' },
          transferSyntaxes: [
            { uuid: NDR, versionMajor: 2, versionMinor: 0, name: 'NDR' },
            { uuid: NDR64, versionMajor: 1, versionMinor: 0, name: 'NDR64' },
          ],
        },
        {
          pContId: 1,
          abstractSyntax: { uuid: SAMR, versionMajor: 1, versionMinor: 0, name: 'SAMR' },
          transferSyntaxes: [
            { uuid: BIND_TIME, versionMajor: 1, versionMinor: 0, name: 'bind-time-features' },
          ],
        },
      ],
    });
  });

  it('decodes a bind_ack: the padded port spec and one result per context', () => {
    // sec_addr "\PIPE\lsass" + NUL is 12 bytes, so 26 + 12 = 38 is padded to 40.
    const port = [...Buffer.from('\\PIPE\\lsass\0', 'latin1')];
    const results = [
      [...le16(0), ...le16(0), ...syntax(NDR, 2, 0)],
      [...le16(2), ...le16(2), ...new Array(20).fill(0)],
      [...le16(3), ...le16(3), ...new Array(20).fill(0)],
    ];
    const body = [
      ...le16(4280),
      ...le16(4280),
      ...le32(0x1234),
      ...le16(port.length),
      ...port,
      0,
      0,
      3,
      0,
      0,
      0,
      ...results.flat(),
    ];
    const { value } = decodeDcerpcPdu(pdu(12, BOTH, 1, body));
    expect(value).toMatchObject({
      kind: 'bindAck',
      assocGroupId: 0x1234,
      secAddr: '\\PIPE\\lsass',
      results: [
        { result: 0, resultName: 'acceptance', reason: 0, transferSyntax: { uuid: NDR, name: 'NDR' } },
        { result: 2, resultName: 'providerRejection', reason: 2 },
        { result: 3, resultName: 'negotiateAck', reason: 3 },
      ],
    });
  });

  it('decodes a request with an object UUID, in both byte orders', () => {
    const object = '9940ca8e-512f-4c58-88a9-61098d6896bd';
    const little = pdu(0, BOTH | PFC_OBJECT_UUID, 7, requestBody(1, 65, [1, 2, 3, 4], object));
    const bigBody = [...be32(4), ...be16(1), ...be16(65), ...uuid(object, false), 1, 2, 3, 4];
    const big = pdu(0, BOTH | PFC_OBJECT_UUID, 7, bigBody, undefined, false);
    const expected = {
      kind: 'request',
      allocHint: 4,
      pContId: 1,
      opnum: 65,
      object,
      stub: Uint8Array.from([1, 2, 3, 4]),
      stubEncrypted: false,
    };
    expect(decodeDcerpcPdu(little).value).toMatchObject({
      ...expected,
      header: { littleEndian: true, callId: 7 },
    });
    expect(decodeDcerpcPdu(big).value).toMatchObject({
      ...expected,
      header: { littleEndian: false, callId: 7 },
    });
  });

  it('separates the stub from the auth padding and marks sealed stubs', () => {
    const stub = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
    const signature = new Array(16).fill(0x5a);
    const bytes = pdu(0, BOTH, 3, requestBody(0, 3, stub), { type: 10, level: 6, pad: 4, token: signature });
    const { value } = decodeDcerpcPdu(bytes);
    expect(value).toMatchObject({
      kind: 'request',
      opnum: 3,
      stub: Uint8Array.from(stub),
      stubEncrypted: true,
      auth: {
        authTypeName: 'ntlmssp',
        authLevelName: 'privacy',
        authPadLength: 4,
        authValue: Uint8Array.from(signature),
      },
    });
    const signed = pdu(0, BOTH, 3, requestBody(0, 3, stub), { type: 9, level: 5, pad: 4, token: signature });
    expect(decodeDcerpcPdu(signed).value).toMatchObject({
      stubEncrypted: false,
      auth: { authTypeName: 'spnego', authLevelName: 'integrity' },
    });
  });

  it('decodes a response, a fault, a bind_nak, an alter_context and an auth3', () => {
    expect(decodeDcerpcPdu(pdu(2, BOTH, 3, responseBody(1, [9, 9]))).value).toMatchObject({
      kind: 'response',
      pContId: 1,
      cancelCount: 0,
      stub: Uint8Array.from([9, 9]),
    });
    const fault = [...le32(24), ...le16(0), 0, 0, ...le32(0x1c010002), ...le32(0)];
    expect(decodeDcerpcPdu(pdu(3, BOTH, 3, fault)).value).toMatchObject({
      kind: 'fault',
      status: 0x1c010002,
      statusName: 'nca_s_op_rng_error',
    });
    expect(decodeDcerpcPdu(pdu(13, BOTH, 1, [...le16(4), 1, 5, 0]))).toMatchObject({
      value: { kind: 'bindNak', providerRejectReason: 4 },
    });
    const alter = pdu(
      14,
      BOTH,
      2,
      bindBody([{ id: 1, iface: syntax(DRSUAPI, 4, 0), transfers: [syntax(NDR, 2, 0)] }]),
    );
    expect(decodeDcerpcPdu(alter).value).toMatchObject({
      kind: 'alterContext',
      contexts: [{ pContId: 1, abstractSyntax: { name: 'DRSUAPI', versionMajor: 4 } }],
    });
    const auth3 = pdu(16, BOTH, 1, [0, 0, 0, 0], { type: 10, level: 2, pad: 0, token: [1, 2, 3] });
    expect(decodeDcerpcPdu(auth3).value).toMatchObject({
      kind: 'auth3',
      auth: { authLevelName: 'connect', authValue: Uint8Array.from([1, 2, 3]) },
    });
    expect(dcerpcFaultStatusName(0x1c010003)).toBe('nca_s_unk_if');
  });

  it('reports what is wrong with a broken PDU, and where', () => {
    const request = pdu(0, BOTH, 1, requestBody(0, 1, [1, 2, 3, 4]));
    const mutate = (at: number, value: number) => {
      const b = Uint8Array.from(request);
      b[at] = value;
      return b;
    };
    const report = (b: Uint8Array) =>
      decodeDcerpcPdu(b, 0x400).diagnostics.map((d) => `${d.code}: ${d.message}`);
    expect(report(mutate(0, 4))).toEqual([
      'dcerpc/bad-version: rpc_vers: expected 5.0 or 5.1, found 4.0 at 0x400',
    ]);
    expect(report(mutate(2, 1))).toEqual([
      'dcerpc/bad-type: PTYPE: expected a connection-oriented PDU type, found 1 at 0x402',
    ]);
    expect(report(mutate(8, 12))).toEqual([
      'dcerpc/bad-length: frag_length: expected at least 16, found 12 at 0x408',
    ]);
    expect(report(request.subarray(0, 20))).toEqual([
      'dcerpc/truncated: DCE/RPC PDU (frag_length): expected 28 bytes, found 20 left of 20 at 0x400',
    ]);
    expect(report(mutate(10, 200))).toEqual([
      'dcerpc/bad-length: auth_length: expected at most 4, found 200 at 0x40a',
    ]);
    const padded = pdu(0, BOTH, 1, requestBody(0, 1, []), { type: 10, level: 6, pad: 0, token: [1] });
    padded[padded.length - 7] = 200;
    expect(report(padded)).toEqual([
      'dcerpc/bad-length: auth_pad_length: expected at most 8, found 200 at 0x41a',
    ]);
  });
});

describe('DcerpcStream', () => {
  const first = pdu(
    11,
    BOTH,
    1,
    bindBody([{ id: 0, iface: syntax(SAMR, 1, 0), transfers: [syntax(NDR, 2, 0)] }]),
  );
  const second = pdu(0, BOTH, 2, requestBody(0, 64, [1, 2, 3]));
  const both = Uint8Array.from([...first, ...second]);

  it('splits PDUs whatever the segment boundaries', () => {
    for (const size of [1, 5, 16, 17, 100, both.length]) {
      const s = new DcerpcStream();
      const kinds: string[] = [];
      for (let i = 0; i < both.length; i += size) {
        const { pdus, diagnostics } = s.push(both.subarray(i, i + size));
        expect(diagnostics).toEqual([]);
        kinds.push(...pdus.map((p) => p.kind));
      }
      expect(kinds).toEqual(['bind', 'request']);
      expect(s.end()).toEqual([]);
    }
  });

  it('skips bytes that cannot start a PDU, once per gap, and finds the next header', () => {
    const s = new DcerpcStream();
    const { pdus, diagnostics } = s.push(Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x05, ...both]));
    expect(pdus.map((p) => p.kind)).toEqual(['bind', 'request']);
    expect(diagnostics.map((d) => `${d.code} @${d.offset}: ${d.message}`)).toEqual([
      'dcerpc/lost-sync @0: expected a DCE/RPC header (05 00), found de ad be ef 05 05 00 0b at 0x0; skipped 5 bytes',
    ]);
  });

  it('reports a PDU cut off by the end of the stream, and drops one cut by a capture gap', () => {
    const s = new DcerpcStream();
    s.push(both.subarray(0, first.length + 10));
    expect(s.end().map((d) => `${d.code} @${d.offset}`)).toEqual([`dcerpc/truncated @${first.length}`]);
    const t = new DcerpcStream();
    t.push(both.subarray(0, 30));
    expect(t.gap(1000).map((d) => d.code)).toEqual(['dcerpc/lost-sync']);
    expect(t.push(second).pdus.map((p) => p.kind)).toEqual(['request']);
  });
});

describe('DcerpcConnection', () => {
  const bind = pdu(
    11,
    BOTH,
    1,
    bindBody([{ id: 0, iface: syntax(DRSUAPI, 4, 0), transfers: [syntax(NDR, 2, 0)] }]),
  );
  const ack = pdu(12, BOTH, 1, [
    ...le16(4280),
    ...le16(4280),
    ...le32(1),
    ...le16(6),
    ...Buffer.from('49153\0', 'latin1'),
    1 /* n_results */,
    0,
    0,
    0,
    ...le16(0),
    ...le16(0),
    ...syntax(NDR, 2, 0),
  ]);
  const sealed = (flags: number, callId: number, body: number[]) =>
    pdu(0, flags, callId, body, { type: 10, level: 6, pad: 0, token: new Array(16).fill(1) });

  const text = (events: readonly DcerpcEvent[]) =>
    events.map((e) =>
      e.kind === 'pdu'
        ? `${e.direction} ${e.pdu.kind}`
        : `${e.direction} ${e.call.type} ${e.call.interface?.name}.${e.call.opnumName}(${e.call.opnum}) stub=${e.call.stubLength} frags=${e.call.fragments}${e.call.stubEncrypted ? ' sealed' : ''}${e.call.statusName ? ` ${e.call.statusName}` : ''}`,
    );

  it('joins fragments of a call and names its method, sealed or not', () => {
    const c = new DcerpcConnection();
    const events: DcerpcEvent[] = [];
    events.push(...c.push('toServer', bind).events, ...c.push('toClient', ack).events);
    // An IDL_DRSGetNCChanges request in three fragments; the opnum is in the clear each time.
    events.push(
      ...c.push('toServer', sealed(PFC_FIRST_FRAG, 5, requestBody(0, 3, new Array(100).fill(7)))).events,
    );
    events.push(...c.push('toServer', sealed(0, 5, requestBody(0, 3, new Array(100).fill(8)))).events);
    events.push(
      ...c.push('toServer', sealed(PFC_LAST_FRAG, 5, requestBody(0, 3, new Array(50).fill(9)))).events,
    );
    // The response does not carry the opnum: it comes from the request with the same call id.
    events.push(...c.push('toClient', pdu(2, BOTH, 5, responseBody(0, [1, 2]))).events);
    events.push(...c.push('toServer', pdu(0, BOTH, 6, requestBody(0, 12, []))).events);
    events.push(
      ...c.push('toClient', pdu(3, BOTH, 6, [...le32(0), ...le16(0), 0, 0, ...le32(5), ...le32(0)])).events,
    );
    expect(text(events)).toEqual([
      'toServer bind',
      'toClient bindAck',
      'toServer request DRSUAPI.IDL_DRSGetNCChanges(3) stub=250 frags=3 sealed',
      'toClient response DRSUAPI.IDL_DRSGetNCChanges(3) stub=2 frags=1',
      'toServer request DRSUAPI.IDL_DRSCrackNames(12) stub=0 frags=1',
      'toClient fault DRSUAPI.IDL_DRSCrackNames(12) stub=0 frags=1 nca_s_fault_access_denied',
    ]);
    const call = events[2]?.kind === 'call' ? events[2].call : undefined;
    expect(call?.stub).toEqual(
      Uint8Array.from([...new Array(100).fill(7), ...new Array(100).fill(8), ...new Array(50).fill(9)]),
    );
    expect(call).toMatchObject({ authType: 10, authLevel: 6, contextId: 0, callId: 5 });
    expect(c.end()).toEqual([]);
  });

  it('copies what it keeps between pushes, so a capture may reuse its packet buffer', () => {
    const c = new DcerpcConnection();
    const reused = new Uint8Array(200);
    const feed = (bytes: Uint8Array) => {
      reused.set(bytes);
      const result = c.push('toServer', reused.subarray(0, bytes.length));
      reused.fill(0xee);
      return result;
    };
    const first = pdu(0, PFC_FIRST_FRAG, 4, requestBody(0, 3, [1, 2, 3]));
    const last = pdu(0, PFC_LAST_FRAG, 4, requestBody(0, 3, [4, 5]));
    feed(first.subarray(0, 20));
    feed(first.subarray(20));
    const { events } = feed(last);
    expect(events[0]?.kind === 'call' && events[0].call.stub).toEqual(Uint8Array.from([1, 2, 3, 4, 5]));
  });

  it('forgets a context the server rejected, and reports fragments without a first one', () => {
    const c = new DcerpcConnection();
    c.push('toServer', bind);
    const reject = Uint8Array.from(ack);
    reject[36] = 2; // p_result_list[0].result: provider rejection
    c.push('toClient', reject);
    const { events, diagnostics } = c.push('toServer', pdu(0, PFC_LAST_FRAG, 9, requestBody(0, 3, [])));
    expect(events).toEqual([]);
    expect(diagnostics.map((d) => d.message)).toEqual(['fragment of call 9 without its first fragment']);
    expect(text(c.push('toServer', pdu(0, BOTH, 10, requestBody(0, 3, []))).events)).toEqual([
      'toServer request undefined.undefined(3) stub=0 frags=1',
    ]);
  });

  it('keeps calls and stubs within its limits', () => {
    const c = new DcerpcConnection({ maxPendingCalls: 2, maxCallBytes: 150, maxOutstandingRequests: 4 });
    c.push('toServer', bind);
    c.push('toClient', ack);
    const started = [1, 2, 3].flatMap(
      (id) => c.push('toServer', pdu(0, PFC_FIRST_FRAG, id, requestBody(0, 3, [1]))).diagnostics,
    );
    expect(started.map((d) => d.message)).toEqual(['more than 2 calls in reassembly; dropped call 1']);
    c.push('toServer', pdu(0, 0, 3, requestBody(0, 3, new Array(100).fill(0))));
    const { events, diagnostics } = c.push(
      'toServer',
      pdu(0, PFC_LAST_FRAG, 3, requestBody(0, 3, new Array(100).fill(0))),
    );
    expect(diagnostics.map((d) => d.message)).toEqual(['call 3 exceeds 150 stub bytes; stub dropped']);
    expect(text(events)).toEqual(['toServer request DRSUAPI.IDL_DRSGetNCChanges(3) stub=201 frags=3']);
    expect(events[0]?.kind === 'call' && events[0].call.stub.length).toBe(0);
    expect(c.end().map((d) => d.message)).toEqual([
      'expected the last fragment of call 2, found the end of the stream after 1 fragments',
    ]);
  });
});

describe('the interface table', () => {
  it('knows the interfaces and methods detections look for', () => {
    const named = (uuid: string, opnum: number) =>
      `${findDcerpcInterface(uuid)?.name} ${dcerpcOpnumName(uuid, opnum)}`;
    expect(
      [
        ['E3514235-4B06-11D1-AB04-00C04FC2DCD2', 0],
        [DRSUAPI, 3],
        [DRSUAPI, 5],
        [SAMR, 13],
        [SAMR, 64],
        ['12345778-1234-abcd-ef00-0123456789ab', 76],
        ['367abb81-9844-35f1-ad32-98f038001003', 12],
        ['367abb81-9844-35f1-ad32-98f038001003', 15],
        ['367abb81-9844-35f1-ad32-98f038001003', 19],
        ['c681d488-d850-11d0-8c52-00c04fd90f7e', 0],
        ['df1941c5-fe89-4e79-bf10-463657acf44d', 4],
        ['12345678-1234-abcd-ef00-01234567cffb', 26],
        ['4b324fc8-1670-01d3-1278-5a47bf6ee188', 12],
        ['4b324fc8-1670-01d3-1278-5a47bf6ee188', 15],
        ['6bffd098-a112-3610-9833-46c3f87e345a', 2],
        ['e1af8308-5d1f-11c9-91a4-08002b14a0fa', 3],
        ['1ff70682-0a51-30e8-076d-740be8cee98b', 0],
        ['86d35949-83c9-4044-b424-db363231fd0c', 1],
        ['4fc742e0-4a10-11cf-8273-00aa004ae673', 12],
        ['4fc742e0-4a10-11cf-8273-00aa004ae673', 13],
        ['12345678-1234-abcd-ef00-0123456789ab', 65],
        ['338cd001-2244-31f1-aaaa-900038001003', 20],
        ['3dde7c30-165d-11d1-ab8f-00805f14db40', 0],
      ].map(([u, op]) => named(u as string, op as number)),
    ).toEqual([
      'DRSUAPI IDL_DRSBind',
      'DRSUAPI IDL_DRSGetNCChanges',
      'DRSUAPI IDL_DRSReplicaAdd',
      'SAMR SamrEnumerateUsersInDomain',
      'SAMR SamrConnect5',
      'LSARPC LsarLookupSids3',
      'SVCCTL RCreateServiceW',
      'SVCCTL ROpenSCManagerW',
      'SVCCTL RStartServiceW',
      'EFSRPC EfsRpcOpenFileRaw',
      'EFSRPC EfsRpcEncryptFileSrv',
      'NETLOGON NetrServerAuthenticate3',
      'SRVSVC NetrSessionEnum',
      'SRVSVC NetrShareEnum',
      'WKSSVC NetrWkstaUserEnum',
      'EPM ept_map',
      'ATSVC NetrJobAdd',
      'ITaskSchedulerService SchRpcRegisterTask',
      'DFSNM NetrDfsAddStdRoot',
      'DFSNM NetrDfsRemoveStdRoot',
      'SPOOLSS RpcRemoteFindFirstPrinterChangeNotificationEx',
      'WINREG BaseRegSaveKey',
      'BKRP BackuprKey',
    ]);
    expect(dcerpcOpnumName(SAMR, 999)).toBeUndefined();
    expect(findDcerpcInterface('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('holds each UUID once, in lower case', () => {
    const uuids = dcerpcInterfaces.map((i) => i.uuid);
    expect(new Set(uuids).size).toBe(uuids.length);
    for (const u of uuids)
      expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect([NDR, NDR64, BIND_TIME, SAMR].map(transferSyntaxName)).toEqual([
      'NDR',
      'NDR64',
      'bind-time-features',
      undefined,
    ]);
  });
});

describe('10,000 mutated PDUs', () => {
  const seeds = [
    pdu(11, BOTH, 1, bindBody([{ id: 0, iface: syntax(SAMR, 1, 0), transfers: [syntax(NDR, 2, 0)] }]), {
      type: 10,
      level: 6,
      pad: 0,
      token: ntlmNegotiate,
    }),
    pdu(12, BOTH, 1, [
      ...le16(4280),
      ...le16(4280),
      ...le32(1),
      ...le16(4),
      ...Buffer.from('135\0'),
      1,
      0,
      0,
      0,
      ...le16(0),
      ...le16(0),
      ...syntax(NDR, 2, 0),
    ]),
    pdu(0, PFC_FIRST_FRAG | PFC_OBJECT_UUID, 2, requestBody(0, 3, [1, 2, 3, 4, 5, 6, 7, 8], SAMR), {
      type: 10,
      level: 6,
      pad: 8,
      token: new Array(16).fill(3),
    }),
    pdu(0, PFC_LAST_FRAG, 2, requestBody(0, 3, [9, 9])),
    pdu(3, BOTH, 2, [...le32(0), ...le16(0), 0, 0, ...le32(0x1c010002), ...le32(0)]),
  ];
  const mutated = fc
    .tuple(
      fc.array(fc.constantFrom(...seeds), { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
      fc.nat(),
    )
    .map(([parts, flips, cut]) => {
      const b = Uint8Array.from(parts.flatMap((p) => [...p]));
      for (const [at, value] of flips) b[at % b.length] = value;
      return b.subarray(0, cut % (b.length + 1));
    });

  it('never throw out of the decoder, the stream or the connection', () => {
    fc.assert(
      fc.property(mutated, fc.nat(64), (b, split) => {
        const single = decodeDcerpcPdu(b);
        expect(single.value !== undefined || single.diagnostics.length > 0).toBe(true);
        const c = new DcerpcConnection();
        c.push('toServer', b.subarray(0, split));
        c.push('toServer', b.subarray(split));
        c.push('toClient', b);
        c.end();
      }),
      { numRuns: 10_000, seed: 706 },
    );
  }, 60_000);
});
