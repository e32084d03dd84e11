// Kerberos decoder: hand-built messages from the RFC 4120 §5 / MS-KILE / MS-SFU structures, the
// lab capture's port-88 streams against tshark's dissection of the same frames, the TCP record
// splitter at every split point, and 10,000 mutated messages that must never throw or hang.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeKerberosMessage,
  type EncryptedDataSummary,
  type KerberosMessage,
  KerberosTcpStream,
  kdcOptionsSet,
  type PaDataSummary,
  principalText,
  type TicketSummary,
} from '../src/kerberos-decoder.ts';
import { hex, type Part, tlv, tsvRows } from './test-bytes.ts';

const fixtures = join(import.meta.dirname, '../fixtures/testbed-default');

const rows = (name: string) => tsvRows(fixtures, name);

const seq = (...c: Part[]) => tlv(0x30, ...c);
const ctx = (n: number, ...c: Part[]) => tlv(0xa0 + n, ...c);
const app = (n: number, ...c: Part[]) => tlv(0x60 + n, ...c);
function int(v: number): Uint8Array {
  const bytes: number[] = [];
  let x = BigInt(v);
  do {
    bytes.unshift(Number(x & 0xffn));
    x >>= 8n;
  } while (!((x === 0n && (bytes[0] as number) < 0x80) || (x === -1n && (bytes[0] as number) >= 0x80)));
  return tlv(0x02, bytes);
}
const text = (tag: number, s: string) => tlv(tag, Array.from(Buffer.from(s, 'utf8')));
const kstr = (s: string) => text(0x1b, s);
const ktime = (s: string) => text(0x18, s);
const octets = (...c: Part[]) => tlv(0x04, ...c);
const principal = (type: number, ...names: string[]) =>
  seq(ctx(0, int(type)), ctx(1, seq(...names.map(kstr))));
// The hand-built cipher texts are zeros; a summary keeps their first 16 bytes as hex.
const ZEROS = '0'.repeat(32);
const encrypted = (etype: number, cipherLength: number, kvno?: number) =>
  seq(
    ctx(0, int(etype)),
    ...(kvno === undefined ? [] : [ctx(1, int(kvno))]),
    ctx(2, octets(new Uint8Array(cipherLength))),
  );
const ticket = (realm: string, sname: Uint8Array, enc: Uint8Array) =>
  app(1, seq(ctx(0, int(5)), ctx(1, kstr(realm)), ctx(2, sname), ctx(3, enc)));
const padata = (type: number, value: Part) => seq(ctx(1, int(type)), ctx(2, octets(value)));

describe('hand-built messages (RFC 4120 §5)', () => {
  it('reads an AS-REQ with PA-ENC-TIMESTAMP, PA-PAC-REQUEST false and a NetBIOS address', () => {
    const asReq = app(
      10,
      seq(
        ctx(1, int(5)),
        ctx(2, int(10)),
        ctx(
          3,
          seq(
            padata(2, encrypted(23, 52)),
            padata(128, seq(ctx(0, tlv(0x01, [0x00])))), // KERB-PA-PAC-REQUEST { include-pac FALSE }
          ),
        ),
        ctx(
          4,
          seq(
            ctx(0, tlv(0x03, [0x00, 0x40, 0x81, 0x00, 0x10])), // forwardable renewable canonicalize renewable-ok
            ctx(1, principal(1, 'alice')),
            ctx(2, kstr('CORP.LAB.TEST')),
            ctx(3, principal(2, 'krbtgt', 'CORP.LAB.TEST')),
            ctx(5, ktime('20370913024805Z')),
            ctx(6, ktime('20370913024805Z')),
            ctx(7, int(0x7fffffff)),
            ctx(8, seq(int(18), int(17), int(23), int(-135))),
            ctx(9, seq(seq(ctx(0, int(20)), ctx(1, octets(Buffer.from('WS01            ')))))),
          ),
        ),
      ),
    );
    expect(decodeKerberosMessage(asReq)).toEqual({
      value: {
        kind: 'as-req',
        msgType: 10,
        pvno: 5,
        padataTypes: [2, 128],
        hasEncryptedTimestamp: true,
        encTimestampEtype: 23,
        pacRequest: false,
        kdcOptions: 0x40810010,
        kdcOptionsSet: ['forwardable', 'renewable', 'canonicalize', 'renewable-ok'],
        cname: { nameType: 1, nameString: ['alice'] },
        realm: 'CORP.LAB.TEST',
        sname: { nameType: 2, nameString: ['krbtgt', 'CORP.LAB.TEST'] },
        till: '2037-09-13T02:48:05Z',
        rtime: '2037-09-13T02:48:05Z',
        nonce: 0x7fffffff,
        etype: [18, 17, 23, -135],
        addresses: [{ addrType: 20, address: 'WS01' }],
      },
      diagnostics: [],
    });
  });

  it('reads a TGS-REQ for S4U2Self: the TGT from PA-TGS-REQ and the user from PA-FOR-USER (MS-SFU §2.2.1)', () => {
    const tgt = ticket('CORP.LAB.TEST', principal(2, 'krbtgt', 'CORP.LAB.TEST'), encrypted(18, 900, 2));
    const apReq = app(
      14,
      seq(
        ctx(0, int(5)),
        ctx(1, int(14)),
        ctx(2, tlv(0x03, [0, 0, 0, 0, 0])),
        ctx(3, tgt),
        ctx(4, encrypted(18, 200)),
      ),
    );
    const forUser = seq(
      ctx(0, principal(10, 'administrator')),
      ctx(1, kstr('CORP.LAB.TEST')),
      ctx(2, seq(ctx(0, int(-138)), ctx(1, octets(new Uint8Array(16))))),
      ctx(3, kstr('Kerberos')),
    );
    const tgsReq = app(
      12,
      seq(
        ctx(1, int(5)),
        ctx(2, int(12)),
        ctx(3, seq(padata(1, apReq), padata(129, forUser))),
        ctx(
          4,
          seq(
            ctx(0, tlv(0x03, [0x00, 0x40, 0x81, 0x00, 0x00])),
            ctx(2, kstr('CORP.LAB.TEST')),
            ctx(3, principal(1, 'svc_web')),
            ctx(5, ktime('20261122222711Z')),
            ctx(7, int(1117572775)),
            ctx(8, seq(int(23))),
          ),
        ),
      ),
    );
    const { value, diagnostics } = decodeKerberosMessage(tgsReq);
    expect(diagnostics).toEqual([]);
    expect(value).toMatchObject({
      kind: 'tgs-req',
      padataTypes: [1, 129],
      hasEncryptedTimestamp: false,
      forUser: { userName: { nameType: 10, nameString: ['administrator'] }, userRealm: 'CORP.LAB.TEST' },
      tgt: {
        tktVno: 5,
        realm: 'CORP.LAB.TEST',
        sname: { nameType: 2, nameString: ['krbtgt', 'CORP.LAB.TEST'] },
        encPart: { etype: 18, kvno: 2, cipherLength: 900 },
      },
      tgsAuthenticator: { etype: 18, cipherLength: 200 },
      sname: { nameType: 1, nameString: ['svc_web'] },
      etype: [23],
    });
  });

  it('reads a TGS-REP whose service ticket is RC4: what Kerberoasting asks for', () => {
    const rep = app(
      13,
      seq(
        ctx(0, int(5)),
        ctx(1, int(13)),
        ctx(3, kstr('CORP.LAB.TEST')),
        ctx(4, principal(1, 'alice')),
        ctx(5, ticket('CORP.LAB.TEST', principal(1, 'svc_sql'), encrypted(23, 1100, 2))),
        ctx(6, encrypted(23, 1200)),
      ),
    );
    expect(decodeKerberosMessage(rep)).toEqual({
      value: {
        kind: 'tgs-rep',
        msgType: 13,
        pvno: 5,
        padataTypes: [],
        hasEncryptedTimestamp: false,
        crealm: 'CORP.LAB.TEST',
        cname: { nameType: 1, nameString: ['alice'] },
        ticket: {
          tktVno: 5,
          realm: 'CORP.LAB.TEST',
          sname: { nameType: 1, nameString: ['svc_sql'] },
          encPart: { etype: 23, kvno: 2, cipherLength: 1100, cipherHead: ZEROS },
        },
        encPart: { etype: 23, cipherLength: 1200, cipherHead: ZEROS },
      },
      diagnostics: [],
    });
  });

  it('reads the NTSTATUS of a Windows KRB-ERROR from KERB-ERROR-DATA (MS-KILE §2.2.1–2.2.2)', () => {
    // KERB-EXT-ERROR: status 0xC0000234 (STATUS_ACCOUNT_LOCKED_OUT), reserved 0, flags 1, little-endian.
    const extError = [0x34, 0x02, 0x00, 0xc0, 0, 0, 0, 0, 1, 0, 0, 0];
    const err = app(
      30,
      seq(
        ctx(0, int(5)),
        ctx(1, int(30)),
        ctx(4, ktime('20261121222712Z')),
        ctx(5, int(123456)),
        ctx(6, int(18)),
        ctx(8, principal(1, 'bob')),
        ctx(9, kstr('CORP.LAB.TEST')),
        ctx(10, principal(2, 'krbtgt', 'CORP.LAB.TEST')),
        ctx(12, octets(seq(ctx(1, int(3)), ctx(2, octets(extError))))),
      ),
    );
    expect(decodeKerberosMessage(err)).toEqual({
      value: {
        kind: 'krb-error',
        msgType: 30,
        pvno: 5,
        stime: '2026-11-21T22:27:12Z',
        susec: 123456,
        errorCode: 18,
        errorName: 'KDC_ERR_CLIENT_REVOKED',
        cname: { nameType: 1, nameString: ['bob'] },
        realm: 'CORP.LAB.TEST',
        sname: { nameType: 2, nameString: ['krbtgt', 'CORP.LAB.TEST'] },
        eData: { ntStatus: 0xc0000234 },
      },
      diagnostics: [],
    });
  });

  it('keeps the message when one pre-authentication value is malformed, with a warning', () => {
    const asReq = app(
      10,
      seq(
        ctx(1, int(5)),
        ctx(2, int(10)),
        ctx(3, seq(padata(128, [0x30, 0x05, 0xa0, 0x03, 0x01, 0x01]))), // SEQUENCE longer than the value
        ctx(
          4,
          seq(ctx(0, tlv(0x03, [0, 0, 0, 0, 0])), ctx(2, kstr('R')), ctx(7, int(1)), ctx(8, seq(int(23)))),
        ),
      ),
    );
    const { value, diagnostics } = decodeKerberosMessage(asReq, 0x100);
    expect(value).toMatchObject({ kind: 'as-req', padataTypes: [128], realm: 'R', nonce: 1, etype: [23] });
    expect(value && 'pacRequest' in value).toBe(false);
    expect(diagnostics).toEqual([
      {
        severity: 'warning',
        code: 'kerberos/bad-padata',
        message: 'PA-PAC-REQUEST: expected a length of at most 4, found 5 at 0x11e',
        offset: 0x11e,
      },
    ]);
  });

  it('names the error and where it is when a message is not Kerberos or is cut short', () => {
    expect(decodeKerberosMessage(hex('3003020105'), 0x40)).toEqual({
      diagnostics: [
        {
          severity: 'error',
          code: 'kerberos/unsupported-message',
          message: 'Kerberos message: expected an [APPLICATION n] message, found 30 03 02 01 at 0x40',
          offset: 0x40,
        },
      ],
    });
    expect(decodeKerberosMessage(hex('6a8201'))).toEqual({
      diagnostics: [
        {
          severity: 'error',
          code: 'kerberos/truncated',
          message:
            'Kerberos message length: expected 1 more byte, found the end of the enclosing data at 0x3',
          offset: 3,
        },
      ],
    });
    expect(decodeKerberosMessage(hex('6a80')).diagnostics[0]?.code).toBe('kerberos/bad-encoding');
  });

  it('names KDC options, unknown bits by number', () => {
    expect(kdcOptionsSet(0x40810010)).toEqual(['forwardable', 'renewable', 'canonicalize', 'renewable-ok']);
    expect(kdcOptionsSet(0x00200001)).toEqual(['bit-10', 'validate']);
  });
});

// ---------------------------------------------------------------------------------------------
// The lab capture against tshark 4.0.17. The fixture README has the commands; in short:
//   tshark -r testbed-default.pcap -Y kerberos -T fields -E aggregator=, -e frame.number
//     -e tcp.dstport -e kerberos.msg_type -e kerberos.CNameString -e kerberos.SNameString
//     -e kerberos.realm -e kerberos.crealm -e kerberos.etype -e kerberos.ENCTYPE
//     -e kerberos.padata_type -e kerberos.include_pac -e kerberos.error_code
//     -e kerberos.kdc_options -e kerberos.nonce -e kerberos.kvno -e kerberos.e_text
// and the TCP payloads of port 88 with -e tcp.payload. Each direction of each stream goes through
// KerberosTcpStream; a message belongs to the frame whose segment completed it, as in tshark.

/** Our message in tshark's columns: every occurrence of a field in document order, joined with commas. */
function tsharkColumns(m: KerberosMessage): string[] {
  const msgTypes: number[] = [m.msgType];
  const cnames: string[] = [];
  const snames: string[] = [];
  const realms: string[] = [];
  const crealms: string[] = [];
  const etypes: number[] = [];
  const enctypes: number[] = [];
  const padataTypes: number[] = [];
  const kvnos: number[] = [];
  let includePac = '';
  let errorCode = '';
  let kdcOptions = '';
  let nonce = '';
  let eText = '';
  const enc = (e: EncryptedDataSummary) => {
    etypes.push(e.etype);
    if (e.kvno !== undefined) kvnos.push(e.kvno);
  };
  const tkt = (t: TicketSummary) => {
    realms.push(t.realm);
    snames.push(...t.sname.nameString);
    enc(t.encPart);
  };
  const pa = (p: PaDataSummary) => {
    for (const type of p.padataTypes) {
      padataTypes.push(type);
      if (type === 1 && p.tgt && p.tgsAuthenticator) {
        msgTypes.push(14); // tshark counts the AP-REQ inside PA-TGS-REQ as a message of its own
        tkt(p.tgt);
        enc(p.tgsAuthenticator);
      }
      if (type === 2 && p.encTimestampEtype !== undefined) etypes.push(p.encTimestampEtype);
      if (type === 11) etypes.push(...(p.etypeInfo ?? []).map((e) => e.etype));
      if (type === 19) etypes.push(...(p.etypeInfo2 ?? []).map((e) => e.etype));
      if (type === 128 && p.pacRequest !== undefined) includePac = p.pacRequest ? '1' : '0';
    }
  };
  switch (m.kind) {
    case 'as-req':
    case 'tgs-req':
      pa(m);
      if (m.cname) cnames.push(...m.cname.nameString);
      realms.push(m.realm);
      if (m.sname) snames.push(...m.sname.nameString);
      enctypes.push(...m.etype);
      kdcOptions = m.kdcOptions.toString(16).padStart(8, '0');
      nonce = `${m.nonce}`;
      break;
    case 'as-rep':
    case 'tgs-rep':
      pa(m);
      crealms.push(m.crealm);
      cnames.push(...m.cname.nameString);
      tkt(m.ticket);
      enc(m.encPart);
      break;
    case 'ap-req':
      tkt(m.ticket);
      enc(m.authenticator);
      break;
    case 'ap-rep':
      enc(m.encPart);
      break;
    case 'krb-error':
      if (m.crealm !== undefined) crealms.push(m.crealm);
      if (m.cname) cnames.push(...m.cname.nameString);
      realms.push(m.realm);
      snames.push(...m.sname.nameString);
      errorCode = `${m.errorCode}`;
      eText = m.eText ?? '';
      if (m.eData?.padata) pa(m.eData.padata);
      break;
    case 'other':
      break;
  }
  return [
    msgTypes.join(','),
    cnames.join(','),
    snames.join(','),
    realms.join(','),
    crealms.join(','),
    etypes.join(','),
    enctypes.join(','),
    padataTypes.join(','),
    includePac,
    errorCode,
    kdcOptions,
    nonce,
    kvnos.join(','),
    eText,
  ];
}

/** Decodes every port-88 direction of the capture: messages by the frame that completed them. */
function decodeCapture(): { byFrame: Map<number, KerberosMessage[]>; diagnostics: unknown[] } {
  const streams = new Map<string, KerberosTcpStream>();
  const byFrame = new Map<number, KerberosMessage[]>();
  const diagnostics: unknown[] = [];
  for (const [frame, stream, src, dst, payload] of rows('tcp-payloads.tsv')) {
    if (src !== '88' && dst !== '88') continue;
    const key = `${stream} ${src}>${dst}`;
    let s = streams.get(key);
    if (!s) streams.set(key, (s = new KerberosTcpStream()));
    const result = s.push(hex(payload ?? ''));
    if (result.messages.length > 0) byFrame.set(Number(frame), [...result.messages]);
    diagnostics.push(...result.diagnostics);
  }
  for (const s of streams.values()) diagnostics.push(...s.end());
  return { byFrame, diagnostics };
}

describe('the lab capture against tshark', () => {
  const { byFrame, diagnostics } = decodeCapture();
  // tshark's Kerberos frames that are port-88 segments (not the LDAP bind or kpasswd on port 464).
  const port88 = new Set(
    rows('tcp-payloads.tsv').flatMap((r) => (r[2] === '88' || r[3] === '88' ? [r[0]] : [])),
  );
  const expected = rows('kerberos.tshark.tsv').filter((r) => port88.has(r[0]));

  it('decodes every port-88 message without a diagnostic', () => {
    expect(diagnostics).toEqual([]);
    expect([...byFrame.keys()]).toEqual(expected.map((r) => Number(r[0])));
  });

  it.each(expected.map((r) => [r[0], r] as const))('frame %s matches tshark field by field', (frame, row) => {
    const messages = byFrame.get(Number(frame)) ?? [];
    expect(messages).toHaveLength(1);
    expect(tsharkColumns(messages[0] as KerberosMessage)).toEqual(row.slice(2));
  });

  it('keeps the head of each ticket, enc-part and authenticator cipher text as tshark shows it', () => {
    const heads = new Map(
      rows('kerberos-cipher-heads.tshark.tsv').map((r) => [Number(r[0]), (r[1] ?? '').split(',')]),
    );
    let checked = 0;
    let withTickets = 0;
    for (const [frame, messages] of byFrame) {
      if (messages.some((m) => m.kind === 'as-rep' || m.kind === 'tgs-rep' || m.kind === 'tgs-req'))
        withTickets++;
      const ours: string[] = [];
      for (const m of messages) {
        JSON.stringify(m, (key, value) => {
          if (key === 'cipherHead') ours.push(value as string);
          return value;
        });
      }
      // tshark lists every cipher of the frame, ours a subset (the PA-ENC-TIMESTAMP cipher is not kept).
      for (const head of ours) expect(heads.get(frame)).toContain(head);
      checked += ours.length;
    }
    // Replies carry a ticket and an enc-part, TGS requests a TGT and an authenticator.
    expect(withTickets).toBeGreaterThan(0);
    expect(checked).toBeGreaterThanOrEqual(2 * withTickets);
  });

  it('decodes the whole capture to the golden output', async () => {
    const text = [...byFrame].map(([frame, messages]) => JSON.stringify({ frame, messages })).join('\n');
    await expect(`${text}\n`).toMatchFileSnapshot(join(fixtures, 'goldens/kerberos-decoded.jsonl'));
  });

  it('finds what the attacks left: Kerberoasting (RC4 service ticket) and AS-REP roasting (no pre-auth)', () => {
    const all = [...byFrame.values()].flat();
    const roastable = all.filter((m) => m.kind === 'tgs-rep' && m.ticket.encPart.etype === 23);
    expect(roastable.map((m) => m.kind === 'tgs-rep' && principalText(m.ticket.sname))).toEqual(['svc_sql']);
    const rc4Reply = all.filter((m) => m.kind === 'as-rep' && m.encPart.etype === 23);
    expect(rc4Reply.map((m) => m.kind === 'as-rep' && principalText(m.cname))).toEqual([
      'alice',
      'asrep_user',
    ]);
    // alice pre-authenticated (and asked for RC4); asrep_user never had to.
    const preauthenticated = all.flatMap((m) =>
      m.kind === 'as-req' && m.hasEncryptedTimestamp && m.cname ? [principalText(m.cname)] : [],
    );
    expect(preauthenticated).toContain('alice');
    expect(preauthenticated).not.toContain('asrep_user');
  });
});

describe('KerberosTcpStream', () => {
  const record = rows('tcp-payloads.tsv').find((r) => r[3] === '88' && (r[4]?.length ?? 0) > 400)?.[4] ?? '';
  const bytes = hex(record);

  it('yields the same message whichever byte the record is split at', () => {
    const whole = new KerberosTcpStream().push(bytes);
    expect(whole.messages).toHaveLength(1);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const s = new KerberosTcpStream();
      const first = s.push(bytes.subarray(0, cut));
      const second = s.push(bytes.subarray(cut));
      expect([...first.messages, ...second.messages]).toEqual(whole.messages);
      expect(s.end()).toEqual([]);
    }
  });

  it('decodes two records in one segment, and reports a record cut off by the end of the stream', () => {
    const twice = new Uint8Array(bytes.length * 2);
    twice.set(bytes);
    twice.set(bytes, bytes.length);
    const s = new KerberosTcpStream();
    expect(s.push(twice).messages).toHaveLength(2);
    s.push(bytes.subarray(0, 10));
    expect(s.end()).toEqual([
      {
        severity: 'error',
        code: 'kerberos/truncated',
        message: `expected a whole length-prefixed record, found 10 bytes (${Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ')}) at the end of the stream`,
        offset: bytes.length * 2,
      },
    ]);
  });

  it('drops the framing on a length with the reserved high bit or beyond the limit', () => {
    const s = new KerberosTcpStream(1000);
    expect(s.push(hex('80000010 00000000')).diagnostics).toEqual([
      {
        severity: 'error',
        code: 'kerberos/bad-record-length',
        message: 'expected a record length 1–1000, found 0x80000010 at 0x0; dropping 8 buffered bytes',
        offset: 0,
      },
    ]);
    expect(s.push(bytes.subarray(0, 4)).messages).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: mutations of the capture's records (bit flips, truncations, absurd lengths,
// overwrites, insertions) through decodeKerberosMessage and KerberosTcpStream.

function xorshift(seed: number) {
  let state = seed >>> 0 || 1;
  const u32 = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return { u32, below: (n: number) => Math.floor((u32() / 0x1_0000_0000) * n) };
}

type Rng = ReturnType<typeof xorshift>;

/** One to three mutations; BER length octets get absurd values a quarter of the time. */
function mutate(input: Uint8Array, rng: Rng): Uint8Array {
  let out = Uint8Array.from(input);
  for (let round = 0, rounds = 1 + rng.below(3); round < rounds; round++) {
    const at = rng.below(out.length + 1);
    switch (rng.below(5)) {
      case 0:
        for (let i = 0, n = 1 + rng.below(8); i < n && out.length > 0; i++) {
          const p = rng.below(out.length);
          out[p] = (out[p] as number) ^ (1 << rng.below(8));
        }
        break;
      case 1:
        out = out.slice(0, at);
        break;
      case 2: {
        if (out.length === 0) break;
        const at = rng.below(out.length);
        const lengths = [
          [0x00],
          [0x7f],
          [0x80],
          [0x81, 0xff],
          [0x84, 0xff, 0xff, 0xff, 0xff],
          [0x89],
          [rng.below(256)],
        ];
        const value = lengths[rng.below(lengths.length)] as number[];
        const grown = new Uint8Array(out.length + value.length - 1);
        grown.set(out.subarray(0, at));
        grown.set(value, at);
        grown.set(out.subarray(at + 1), at + value.length);
        out = grown.slice(0, Math.max(0, out.length + value.length - 1));
        break;
      }
      case 3:
        for (let i = at; i < Math.min(out.length, at + 1 + rng.below(16)); i++) out[i] = rng.below(256);
        break;
      default: {
        const from = rng.below(out.length + 1);
        const piece = out.slice(from, from + rng.below(64));
        const grown = new Uint8Array(out.length + piece.length);
        grown.set(out.subarray(0, at));
        grown.set(piece, at);
        grown.set(out.subarray(at), at + piece.length);
        out = grown;
      }
    }
  }
  return out;
}

describe('robustness', () => {
  const records: Uint8Array[] = [];
  for (const [, , src, dst, payload] of rows('tcp-payloads.tsv')) {
    const b = hex(payload ?? '');
    if ((src === '88' || dst === '88') && b.length > 4) records.push(b.subarray(4));
  }
  const HANG_MS = 1000;

  it('10,000 mutated messages never throw out of decodeKerberosMessage, and each ends quickly', () => {
    const rng = xorshift(0x4b524235);
    let decoded = 0;
    for (let i = 0; i < 10_000; i++) {
      const input = mutate(records[rng.below(records.length)] as Uint8Array, rng);
      const started = performance.now();
      const result = decodeKerberosMessage(input);
      const took = performance.now() - started;
      if (took > HANG_MS)
        throw new Error(`input ${i} took ${took} ms: ${Buffer.from(input).toString('hex')}`);
      if (result.value) decoded++;
      else expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
      for (const d of result.diagnostics) expect(d.message).toMatch(/ at 0x[0-9a-f]+/);
    }
    expect(decoded).toBeGreaterThan(0);
  });

  it('mutated streams in random segments never throw out of KerberosTcpStream', () => {
    const rng = xorshift(0x5354524d);
    for (let i = 0; i < 500; i++) {
      const stream = mutate(hex(rows('tcp-payloads.tsv')[rng.below(40)]?.[4] ?? ''), rng);
      const s = new KerberosTcpStream();
      for (let at = 0; at < stream.length; ) {
        const next = at + 1 + rng.below(200);
        s.push(stream.subarray(at, next));
        at = next;
      }
      s.end();
    }
  });
});
