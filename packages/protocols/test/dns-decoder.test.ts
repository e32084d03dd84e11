// DNS decoder: the lab's SRV query and answer against tshark's reading, messages built from
// RFC 1035 for every rdata kind, TCP framing across arbitrary splits, hostile names, and
// 10,000 mutated messages that must come back as values or diagnostics, never exceptions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DnsTcpStream, decodeDnsMessage, dnsTypeName, isZoneTransfer } from '../src/dns-decoder.ts';
import { hex } from './test-bytes.ts';

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const name = (s: string) => [...s.split('.').flatMap((l) => [l.length, ...Buffer.from(l, 'latin1')]), 0];
const pointer = (offset: number) => [0xc0 | (offset >> 8), offset & 0xff];
const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());
const header = (id: number, flags: number, qd: number, an: number, ns: number, ar: number) => [
  ...u16(id),
  ...u16(flags),
  ...u16(qd),
  ...u16(an),
  ...u16(ns),
  ...u16(ar),
];
const question = (n: number[], type: number, cls = 1) => [...n, ...u16(type), ...u16(cls)];
const record = (n: number[], type: number, ttl: number, rdata: number[]) => [
  ...n,
  ...u16(type),
  ...u16(1),
  ...u32(ttl),
  ...u16(rdata.length),
  ...rdata,
];

// Frames 128 and 129 of the lab recording:
//   tshark -r testbed-smb21-cleartext.pcap -Y dns -T fields -e frame.number -e udp.payload
const labQuery = hex(
  '3fbd01000001000000000000095f6b65726265726f73045f74637004636f7270036c616204746573740000210001',
);
const labAnswer = hex(
  `3fbd85000001000100010000095f6b65726265726f73045f74637004636f7270036c616204746573740000210001
   c00c0021000100000384000c00000064005803646331c01bc01b0006000100000e10002703444331c01b0a686f73
   746d6173746572c01b0000000100000384000002580001518000000e10`,
);

describe('the lab SRV lookup, as tshark reads it', () => {
  it('decodes the query', () => {
    // tshark -r testbed-smb21-cleartext.pcap -Y frame.number==128 -T fields -e dns.id -e dns.flags
    //   -e dns.qry.name -e dns.qry.type  →  0x3fbd 0x0100 _kerberos._tcp.corp.lab.test 33
    const { value, diagnostics } = decodeDnsMessage(labQuery);
    expect(diagnostics).toEqual([]);
    expect(value?.header).toMatchObject({ id: 0x3fbd, qr: false, opcodeName: 'QUERY', rd: true, qdCount: 1 });
    expect(value?.questions).toEqual([
      { name: '_kerberos._tcp.corp.lab.test', type: 33, typeName: 'SRV', class: 1, className: 'IN' },
    ]);
    expect(value && isZoneTransfer(value)).toBe(false);
  });

  it('decodes the answer with its compressed names', () => {
    // tshark -r testbed-smb21-cleartext.pcap -Y frame.number==129 -T fields -E occurrence=a
    //   -E aggregator=, -e dns.id -e dns.flags -e dns.resp.type -e dns.resp.ttl -e dns.srv.priority
    //   -e dns.srv.weight -e dns.srv.port -e dns.srv.target -e dns.soa.mname -e dns.soa.rname
    //   -e dns.soa.serial_number -e dns.soa.refresh_interval -e dns.soa.retry_interval
    //   -e dns.soa.expire_limit -e dns.soa.minimum_ttl
    //   →  0x3fbd 0x8500 33,6 900,3600 0 100 88 dc1.corp.lab.test DC1.corp.lab.test
    //      hostmaster.corp.lab.test 1 900 600 86400 3600
    const { value, diagnostics } = decodeDnsMessage(labAnswer);
    expect(diagnostics).toEqual([]);
    expect(value).toEqual({
      header: {
        id: 0x3fbd,
        qr: true,
        opcode: 0,
        opcodeName: 'QUERY',
        aa: true,
        tc: false,
        rd: true,
        ra: false,
        z: false,
        ad: false,
        cd: false,
        rcode: 0,
        rcodeName: 'NOERROR',
        qdCount: 1,
        anCount: 1,
        nsCount: 1,
        arCount: 0,
      },
      questions: [
        { name: '_kerberos._tcp.corp.lab.test', type: 33, typeName: 'SRV', class: 1, className: 'IN' },
      ],
      answers: [
        {
          name: '_kerberos._tcp.corp.lab.test',
          type: 33,
          typeName: 'SRV',
          class: 1,
          className: 'IN',
          ttl: 900,
          rdLength: 12,
          data: { kind: 'srv', priority: 0, weight: 100, port: 88, target: 'dc1.corp.lab.test' },
        },
      ],
      authorities: [
        {
          name: 'corp.lab.test',
          type: 6,
          typeName: 'SOA',
          class: 1,
          className: 'IN',
          ttl: 3600,
          rdLength: 39,
          data: {
            kind: 'soa',
            mname: 'DC1.corp.lab.test',
            rname: 'hostmaster.corp.lab.test',
            serial: 1,
            refresh: 900,
            retry: 600,
            expire: 86400,
            minimum: 3600,
          },
        },
      ],
      additionals: [],
      complete: true,
      size: labAnswer.length,
    });
  });
});

describe('messages built from RFC 1035', () => {
  // The question name sits at offset 12; every record below points back at it.
  const q = name('example.com');
  const at = pointer(12);
  const response = bytes(
    header(0x1234, 0x8180, 1, 9, 0, 1),
    question(q, 255),
    record(at, 1, 60, [192, 0, 2, 7]),
    record(at, 28, 60, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    record([3, ...Buffer.from('www'), ...at], 5, 60, at),
    record(at, 2, 60, [3, ...Buffer.from('ns1'), ...at]),
    record(name('7.2.0.192.in-addr.arpa'), 12, 60, at),
    record(at, 15, 60, [...u16(10), 4, ...Buffer.from('mail'), ...at]),
    record(at, 16, 60, [5, ...Buffer.from('v=spf'), 0, 3, ...Buffer.from('a b')]),
    record([5, ...Buffer.from('_ldap'), 4, ...Buffer.from('_tcp'), ...at], 33, 60, [
      ...u16(0),
      ...u16(100),
      ...u16(389),
      2,
      ...Buffer.from('dc'),
      ...at,
    ]),
    record(at, 6, 60, [
      ...pointer(12),
      5,
      ...Buffer.from('admin'),
      ...at,
      ...u32(2024010101),
      ...u32(900),
      ...u32(600),
      ...u32(86400),
      ...u32(3600),
    ]),
    // An OPT pseudo-record (RFC 6891): root name, class = UDP payload size.
    [0, ...u16(41), ...u16(1232), ...u32(0), ...u16(0)],
  );

  it('decodes every rdata kind, following compression pointers', () => {
    const { value, diagnostics } = decodeDnsMessage(response);
    expect(diagnostics).toEqual([]);
    const text = [...(value?.answers ?? []), ...(value?.additionals ?? [])].map(
      (r) => `${r.name} ${r.ttl} ${r.className} ${r.typeName} ${JSON.stringify(r.data)}`,
    );
    expect(text).toEqual([
      'example.com 60 IN A {"kind":"a","address":"192.0.2.7"}',
      'example.com 60 IN AAAA {"kind":"aaaa","address":"2001:db8::1"}',
      'www.example.com 60 IN CNAME {"kind":"cname","cname":"example.com"}',
      'example.com 60 IN NS {"kind":"ns","nsdname":"ns1.example.com"}',
      '7.2.0.192.in-addr.arpa 60 IN PTR {"kind":"ptr","ptrdname":"example.com"}',
      'example.com 60 IN MX {"kind":"mx","preference":10,"exchange":"mail.example.com"}',
      'example.com 60 IN TXT {"kind":"txt","txtData":["v=spf","","a b"]}',
      '_ldap._tcp.example.com 60 IN SRV {"kind":"srv","priority":0,"weight":100,"port":389,"target":"dc.example.com"}',
      'example.com 60 IN SOA {"kind":"soa","mname":"example.com","rname":"admin.example.com","serial":2024010101,"refresh":900,"retry":600,"expire":86400,"minimum":3600}',
      '. 0 CLASS1232 OPT {"kind":"other","length":0}',
    ]);
    expect(value?.questions[0]?.typeName).toBe('ANY');
  });

  it('writes IPv6 addresses in RFC 5952 form', () => {
    const aaaa = (groups: number[]) => {
      const rdata = groups.flatMap(u16);
      const v = decodeDnsMessage(bytes(header(1, 0x8000, 0, 1, 0, 0), record([0], 28, 0, rdata))).value;
      return v?.answers[0]?.data;
    };
    expect(aaaa([0, 0, 0, 0, 0, 0, 0, 1])).toEqual({ kind: 'aaaa', address: '::1' });
    expect(aaaa([0xfe80, 0, 0, 0, 0, 0, 0, 0])).toEqual({ kind: 'aaaa', address: 'fe80::' });
    expect(aaaa([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])).toEqual({
      kind: 'aaaa',
      address: '2001:db8:0:1:1:1:1:1',
    });
    expect(aaaa([0x2001, 0, 0, 1, 0, 0, 0, 1])).toEqual({ kind: 'aaaa', address: '2001:0:0:1::1' });
  });

  it('recognises zone transfers by question type (RFC 5936 AXFR, RFC 1995 IXFR)', () => {
    const ask = (type: number) =>
      decodeDnsMessage(bytes(header(7, 0, 1, 0, 0, 0), question(name('corp.lab.test'), type)));
    for (const [type, expected] of [
      [252, true],
      [251, true],
      [255, false],
      [1, false],
    ] as const) {
      const value = ask(type).value;
      expect(value && isZoneTransfer(value)).toBe(expected);
    }
    expect([252, 251, 255, 65280].map(dnsTypeName)).toEqual(['AXFR', 'IXFR', 'ANY', 'TYPE65280']);
  });

  it('escapes label bytes that are not printable (RFC 4343)', () => {
    const v = decodeDnsMessage(
      bytes(header(1, 0, 1, 0, 0, 0), [3, 0x61, 0x2e, 0x00, 2, 0x5c, 0x20, 0], u16(1), u16(1)),
    );
    expect(v.value?.questions[0]?.name).toBe('a\\.\\000.\\\\\\032');
  });
});

describe('DNS over TCP (RFC 1035 §4.2.2)', () => {
  // An AXFR answered in three messages, as a server streams a zone.
  const axfr = [
    bytes(
      header(9, 0x8400, 1, 1, 0, 0),
      question(name('corp.lab.test'), 252),
      record(pointer(12), 1, 60, [10, 99, 0, 10]),
    ),
    bytes(header(9, 0x8400, 0, 1, 0, 0), record(name('dc1.corp.lab.test'), 1, 60, [10, 99, 0, 11])),
    bytes(header(9, 0x8400, 0, 1, 0, 0), record(name('ws1.corp.lab.test'), 1, 60, [10, 99, 0, 20])),
  ];
  const stream = bytes(...axfr.map((m) => [...u16(m.length), ...m]));

  it('splits a stream into messages whatever the segment sizes', () => {
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const s = new DnsTcpStream();
      const names: string[] = [];
      for (let i = 0; i < stream.length; i += size) {
        const { messages, diagnostics } = s.push(stream.subarray(i, i + size));
        expect(diagnostics).toEqual([]);
        for (const m of messages) names.push(...m.answers.map((a) => `${a.name}=${JSON.stringify(a.data)}`));
      }
      expect(s.end()).toEqual([]);
      expect(names).toEqual([
        'corp.lab.test={"kind":"a","address":"10.99.0.10"}',
        'dc1.corp.lab.test={"kind":"a","address":"10.99.0.11"}',
        'ws1.corp.lab.test={"kind":"a","address":"10.99.0.20"}',
      ]);
    }
  });

  it('reports a message cut off by the end of the stream, and offsets in the stream', () => {
    const s = new DnsTcpStream();
    s.push(stream.subarray(0, stream.length - 3));
    expect(s.end()).toEqual([
      {
        severity: 'error',
        code: 'dns/truncated',
        message: expect.stringMatching(/^expected a whole length-prefixed message, found \d+ bytes/),
        offset: 2 + (axfr[0]?.length ?? 0) + 2 + (axfr[1]?.length ?? 0),
      },
    ]);
  });

  it('drops a partial message at a capture gap and carries on with the next one', () => {
    const s = new DnsTcpStream();
    s.push(stream.subarray(0, 10));
    expect(s.gap(5).map((d) => d.code)).toEqual(['dns/truncated']);
    const third = stream.subarray(stream.length - 2 - (axfr[2]?.length ?? 0));
    expect(s.push(third).messages.map((m) => m.answers[0]?.name)).toEqual(['ws1.corp.lab.test']);
  });
});

describe('hostile and broken messages', () => {
  const codes = (b: Uint8Array) => decodeDnsMessage(b).diagnostics.map((d) => `${d.severity} ${d.code}`);

  it('rejects compression pointers that do not point backwards', () => {
    // A pointer to itself, and a pointer forward into the message.
    expect(codes(bytes(header(1, 0, 1, 0, 0, 0), pointer(12), u16(1), u16(1)))).toEqual([
      'error dns/bad-name',
    ]);
    expect(codes(bytes(header(1, 0, 1, 0, 0, 0), pointer(20), u16(1), u16(1), name('a')))).toEqual([
      'error dns/bad-name',
    ]);
    // Two names pointing at each other.
    const loop = bytes(header(1, 0x8000, 1, 1, 0, 0), [1, 0x61, ...pointer(27)], u16(1), u16(1), [
      1,
      0x62,
      ...pointer(12),
    ]);
    expect(codes(loop)).toEqual(['error dns/bad-name']);
  });

  it('rejects extended label types and names over 255 octets', () => {
    expect(codes(bytes(header(1, 0, 1, 0, 0, 0), [0x41, 0], u16(1), u16(1)))).toEqual(['error dns/bad-name']);
    const long = Array.from({ length: 5 }, () => [63, ...new Array(63).fill(0x61)]).flat();
    expect(codes(bytes(header(1, 0, 1, 0, 0, 0), long, [0], u16(1), u16(1)))).toEqual(['error dns/bad-name']);
  });

  it('keeps what it read before a record that runs past the end', () => {
    const cut = labAnswer.subarray(0, labAnswer.length - 10);
    const { value, diagnostics } = decodeDnsMessage(cut, 0x100);
    expect(value?.complete).toBe(false);
    expect(value?.answers).toHaveLength(1);
    expect(value?.authorities).toHaveLength(0);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', code: 'dns/truncated' });
    expect(diagnostics[0]?.message).toMatch(
      /^authority 0 RDATA: expected 39 bytes, found \d+ left of \d+ at 0x/,
    );
  });

  it('reports a short header, bad rdata lengths and trailing bytes', () => {
    expect(codes(labQuery.subarray(0, 11))).toEqual(['error dns/truncated']);
    expect(codes(bytes(header(1, 0x8000, 0, 1, 0, 0), record([0], 1, 0, [1, 2, 3, 4, 5])))).toEqual([
      'error dns/bad-value',
    ]);
    expect(codes(bytes([...labQuery], [0, 0]))).toEqual(['warning dns/trailing-bytes']);
  });

  it('never throws on 10,000 mutated messages', () => {
    const seeds = [labQuery, labAnswer, decodeSeed()];
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 16 }),
      )
      .map(([seed, flips, cut, tail]) => {
        const b = Uint8Array.from(seed);
        for (const [at, value] of flips) b[at % b.length] = value;
        return Uint8Array.from([...b.subarray(0, cut % (b.length + 1)), ...tail]);
      });
    fc.assert(
      fc.property(mutated, (b) => {
        const result = decodeDnsMessage(b);
        expect(result.value !== undefined || result.diagnostics.length > 0).toBe(true);
        const s = new DnsTcpStream();
        s.push(b);
        s.end();
      }),
      { numRuns: 10_000, seed: 1035 },
    );
  }, 60_000);

  function decodeSeed(): Uint8Array {
    return bytes(
      header(2, 0x8180, 1, 2, 0, 0),
      question(name('a.b'), 15),
      record(pointer(12), 15, 1, [0, 1, ...pointer(12)]),
      record(pointer(12), 16, 1, [1, 0x78]),
    );
  }
});
