// TCP stream reassembly: handshake and roles, out-of-order segments, retransmissions and
// overlaps, gaps found by acknowledgments, timeouts and limits, FIN/RST/reuse, sequence
// wraparound; the first case runs through a pcap file and the whole pipeline.
import { describe, expect, it } from 'vitest';
import {
  type CaptureDiagnostic,
  formatCaptureDiagnostic,
  readFlows,
  type StreamEvent,
  serverSideByPorts,
  TcpReassembler,
  type TcpReassemblyOptions,
  type TcpSegment,
} from '../src/index.ts';
import { ethernet, ipv4, pcap, tcp, text } from './capture-builder.ts';
import { flowItemText } from './flow-text.ts';

const client = { ip: '10.0.0.1', port: 50000 };
const server = { ip: '10.0.0.2', port: 445 };

interface Step {
  from: 'c' | 's';
  seq: number;
  ack?: number;
  flags?: string;
  data?: string;
  /** Seconds since the start; the step's index when absent. */
  t?: number;
}

function segment(step: Step, frame: number): TcpSegment {
  const [src, dst] = step.from === 'c' ? [client, server] : [server, client];
  const letters: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10 };
  let flags = 0;
  for (const c of step.flags ?? 'A') flags |= letters[c] ?? 0;
  return {
    src: src.ip,
    dst: dst.ip,
    srcPort: src.port,
    dstPort: dst.port,
    seq: step.seq >>> 0,
    ack: (step.ack ?? 0) >>> 0,
    flags,
    window: 65535,
    payload: text(step.data ?? ''),
    timestampUs: (step.t ?? frame) * 1_000_000,
    frame,
  };
}

function run(steps: Step[], options: TcpReassemblyOptions = {}) {
  const diagnostics: CaptureDiagnostic[] = [];
  const tcp = new TcpReassembler({ ...options, onDiagnostic: (d) => diagnostics.push(d) });
  const events: StreamEvent[] = [];
  steps.forEach((step, i) => {
    events.push(...tcp.push(segment(step, i)));
  });
  events.push(...tcp.flush());
  return { events: events.map(flowItemText), diagnostics: diagnostics.map(formatCaptureDiagnostic) };
}

const handshake: Step[] = [
  { from: 'c', seq: 1000, flags: 'S' },
  { from: 's', seq: 5000, ack: 1001, flags: 'SA' },
  { from: 'c', seq: 1001, ack: 5001 },
];

describe('a capture with out-of-order data, retransmissions and a gap', () => {
  // Client stream offsets: aaaa 0–4, bbbb 4–8, cccc 8–12, dd 12–14, eeee 14–18 (never captured),
  // ffff 18–22, gg 22–24, FIN at 24.
  const steps: Step[] = [
    ...handshake,
    { from: 'c', seq: 1001, ack: 5001, flags: 'PA', data: 'aaaa' },
    { from: 'c', seq: 1009, ack: 5001, flags: 'PA', data: 'cccc' }, // before bbbb: held
    { from: 'c', seq: 1005, ack: 5001, flags: 'PA', data: 'bbbb' }, // fills the hole
    { from: 'c', seq: 1001, ack: 5001, flags: 'PA', data: 'aaaa' }, // retransmission
    { from: 'c', seq: 1011, ack: 5001, flags: 'PA', data: 'ccdd' }, // overlap: only dd is new
    { from: 's', seq: 5001, ack: 1015, flags: 'PA', data: 'resp' },
    { from: 'c', seq: 1019, ack: 5005, flags: 'PA', data: 'ffff' }, // eeee was lost: held
    { from: 's', seq: 5005, ack: 1023 }, // the server has 14–22: eeee is a gap
    { from: 'c', seq: 1023, ack: 5005, flags: 'FPA', data: 'gg' },
    { from: 's', seq: 5005, ack: 1026, flags: 'FA' },
    { from: 'c', seq: 1026, ack: 5006 }, // the last ACK, after the close: ignored
  ];

  it('delivers every byte once, in order, with the gap in its place', () => {
    const frames = steps.map((step, i) => {
      const s = segment(step, i);
      const bytes = ethernet(
        ipv4(
          tcp(s.payload, {
            srcPort: s.srcPort,
            dstPort: s.dstPort,
            seq: s.seq,
            ack: s.ack,
            flags: step.flags ?? 'A',
          }),
          {
            src: s.src,
            dst: s.dst,
          },
        ),
      );
      return { seconds: 1_700_000_000 + i, fraction: 0, data: bytes };
    });
    const reading = readFlows(pcap(frames));
    expect([...reading.items].map(flowItemText)).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 0 t=1700000000000000]',
      'data #0 toServer @0 "aaaa" [frame 3 t=1700000003000000]',
      'data #0 toServer @4 "bbbb" [frame 5 t=1700000005000000]',
      'data #0 toServer @8 "cccc" [frame 4 t=1700000004000000]',
      'data #0 toServer @12 "dd" [frame 7 t=1700000007000000]',
      'data #0 toClient @0 "resp" [frame 8 t=1700000008000000]',
      'gap #0 toServer @14 +4 [frame 10 t=1700000010000000]',
      'data #0 toServer @18 "ffff" [frame 9 t=1700000009000000]',
      'data #0 toServer @22 "gg" [frame 11 t=1700000011000000]',
      'close #0 fin [frame 12 t=1700000012000000]',
    ]);
    expect(reading.diagnostics.map(formatCaptureDiagnostic)).toEqual([
      'warning: frame 10: 10.0.0.1:50000 → 10.0.0.2:445: 4 bytes missing from stream offset 14 [tcp/gap]',
    ]);
    expect(reading.stats.tcpSegments).toBe(steps.length);
  });

  it('hands out in-order data as views of the packet, not copies', () => {
    const tcp = new TcpReassembler();
    for (const [i, step] of handshake.entries()) tcp.push(segment(step, i));
    const s = segment({ from: 'c', seq: 1001, flags: 'PA', data: 'view' }, 3);
    const [data] = tcp.push(s);
    expect(data?.kind === 'data' && data.bytes).toBe(s.payload);
  });
});

describe('buffers', () => {
  it('copies held segments, so a capture buffer reused afterwards does not change them', () => {
    const tcp = new TcpReassembler();
    const buffer = Buffer.from('held');
    const early = { ...segment({ from: 'c', seq: 104, flags: 'PA' }, 0), payload: buffer.subarray(0, 4) };
    tcp.push(segment({ from: 'c', seq: 100, flags: 'PA', data: 'x' }, 1));
    tcp.push(early);
    buffer.fill(0x21); // a live capture reusing its buffer for the next packet
    const events = tcp.push(segment({ from: 'c', seq: 101, flags: 'PA', data: 'yyy' }, 2));
    expect(events.map(flowItemText)).toEqual([
      'data #0 toServer @1 "yyy" [frame 2 t=2000000]',
      'data #0 toServer @4 "held" [frame 0 t=0]',
    ]);
  });
});

describe('roles', () => {
  it('takes the client from the SYN-ACK when the SYN was not captured', () => {
    expect(
      run([
        { from: 's', seq: 5000, ack: 1001, flags: 'SA' },
        { from: 'c', seq: 1001, ack: 5001, flags: 'PA', data: 'hi' },
      ]).events,
    ).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 0 t=0]',
      'data #0 toServer @0 "hi" [frame 1 t=1000000]',
      'close #0 end [frame 1 t=1000000]',
    ]);
  });

  it('guesses the roles from the ports when a connection is picked up in the middle', () => {
    expect(
      run([
        { from: 's', seq: 77, ack: 88, flags: 'PA', data: 'reply' },
        { from: 'c', seq: 88, ack: 82, flags: 'PA', data: 'next' },
      ]).events,
    ).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (ports) [frame 0 t=0]',
      'data #0 toClient @0 "reply" [frame 0 t=0]',
      'data #0 toServer @0 "next" [frame 1 t=1000000]',
      'close #0 end [frame 1 t=1000000]',
    ]);
  });

  it.each([
    [50000, 445, 'dst'],
    [88, 61000, 'src'],
    [389, 445, 'src'], // both well known: the lower port
    [1023, 1024, 'src'],
    [45798, 49153, 'dst'], // Linux client to a Windows dynamic RPC endpoint
    [49153, 45798, 'src'],
    [60000, 50000, 'dst'], // Windows client to Windows RPC: the lower port
    [8080, 51000, 'src'],
  ] as const)('serverSideByPorts(%i, %i) is %s', (src, dst, side) => {
    expect(serverSideByPorts(src, dst)).toBe(side);
  });
});

describe('connection ends', () => {
  it('closes on RST, ignores late segments of the closed connection, and opens on a new SYN', () => {
    expect(
      run([
        ...handshake,
        { from: 'c', seq: 1001, ack: 5001, flags: 'PA', data: 'req' },
        { from: 's', seq: 5001, flags: 'R' },
        { from: 's', seq: 5001, ack: 1004, flags: 'PA', data: 'late' },
        { from: 'c', seq: 9000, flags: 'S' },
      ]).events,
    ).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 0 t=0]',
      'data #0 toServer @0 "req" [frame 3 t=3000000]',
      'close #0 rst [frame 4 t=4000000]',
      'open #1 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 6 t=6000000]',
      'close #1 end [frame 6 t=6000000]',
    ]);
  });

  it('closes a connection whose ports are reused by a new handshake, and ignores a retransmitted SYN', () => {
    expect(
      run([
        ...handshake,
        { from: 'c', seq: 1000, flags: 'S' },
        { from: 'c', seq: 1001, ack: 5001, flags: 'PA', data: 'one' },
        { from: 'c', seq: 7000, flags: 'S' },
        { from: 'c', seq: 7001, ack: 1, flags: 'PA', data: 'two' },
      ]).events,
    ).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 0 t=0]',
      'data #0 toServer @0 "one" [frame 4 t=4000000]',
      'close #0 reused [frame 5 t=5000000]',
      'open #1 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 5 t=5000000]',
      'data #1 toServer @0 "two" [frame 6 t=6000000]',
      'close #1 end [frame 6 t=6000000]',
    ]);
  });

  it('reports the bytes before a FIN that were never captured when the input ends', () => {
    const result = run([
      ...handshake,
      { from: 'c', seq: 1001, flags: 'PA', data: 'abc' },
      { from: 'c', seq: 1010, flags: 'FA', data: 'xyz' }, // 1004–1009 missing
    ]);
    expect(result.events).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 0 t=0]',
      'data #0 toServer @0 "abc" [frame 3 t=3000000]',
      'gap #0 toServer @3 +6 [frame 4 t=4000000]',
      'data #0 toServer @9 "xyz" [frame 4 t=4000000]',
      'close #0 end [frame 4 t=4000000]',
    ]);
    expect(result.diagnostics).toEqual([
      'warning: frame 4: 10.0.0.1:50000 → 10.0.0.2:445: 6 bytes missing from stream offset 3 [tcp/gap]',
    ]);
  });

  it('closes a connection idle past the timeout', () => {
    expect(
      run(
        [
          { from: 'c', seq: 1, flags: 'PA', data: 'a', t: 0 },
          { from: 'c', seq: 2, flags: 'PA', data: 'b', t: 30 },
        ],
        { idleTimeoutUs: 20_000_000 },
      ).events,
    ).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (ports) [frame 0 t=0]',
      'data #0 toServer @0 "a" [frame 0 t=0]',
      'close #0 timeout [frame 1 t=30000000]',
      'open #1 10.0.0.1:50000 → 10.0.0.2:445 (ports) [frame 1 t=30000000]',
      'data #1 toServer @0 "b" [frame 1 t=30000000]',
      'close #1 end [frame 1 t=30000000]',
    ]);
  });
});

describe('limits', () => {
  it('declares a gap when a hole waits longer than the hole timeout', () => {
    expect(
      run([
        { from: 'c', seq: 100, flags: 'PA', data: 'aa', t: 0 },
        { from: 'c', seq: 104, flags: 'PA', data: 'cc', t: 1 },
        { from: 'c', seq: 106, flags: 'PA', data: 'dd', t: 12 },
      ]).events,
    ).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (ports) [frame 0 t=0]',
      'data #0 toServer @0 "aa" [frame 0 t=0]',
      'gap #0 toServer @2 +2 [frame 2 t=12000000]',
      'data #0 toServer @4 "cc" [frame 1 t=1000000]',
      'data #0 toServer @6 "dd" [frame 2 t=12000000]',
      'close #0 end [frame 2 t=12000000]',
    ]);
  });

  it('holds at most the configured out-of-order bytes per direction', () => {
    const result = run(
      [
        { from: 'c', seq: 100, flags: 'PA', data: 'a' },
        { from: 'c', seq: 110, flags: 'PA', data: 'bbbbbb' },
        { from: 'c', seq: 120, flags: 'PA', data: 'cccccc' },
      ],
      { maxPendingBytesPerDirection: 8 },
    );
    expect(result.events).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (ports) [frame 0 t=0]',
      'data #0 toServer @0 "a" [frame 0 t=0]',
      'gap #0 toServer @1 +9 [frame 2 t=2000000]',
      'data #0 toServer @10 "bbbbbb" [frame 1 t=1000000]',
      'gap #0 toServer @16 +4 [frame 2 t=2000000]',
      'data #0 toServer @20 "cccccc" [frame 2 t=2000000]',
      'close #0 end [frame 2 t=2000000]',
    ]);
    expect(result.diagnostics[0]).toBe(
      'warning: frame 2: 10.0.0.1:50000 → 10.0.0.2:445: more than 8 bytes out of order; the hole before them becomes a gap [tcp/buffer-overflow]',
    );
  });

  it('evicts the oldest connection beyond the connection limit', () => {
    const tcp = new TcpReassembler({ maxConnections: 1 });
    const other = { ...segment({ from: 'c', seq: 1, flags: 'PA', data: 'b' }, 1), srcPort: 50001 };
    const events = [
      ...tcp.push(segment({ from: 'c', seq: 1, flags: 'PA', data: 'a' }, 0)),
      ...tcp.push(other),
    ];
    expect(events.map(flowItemText)).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (ports) [frame 0 t=0]',
      'data #0 toServer @0 "a" [frame 0 t=0]',
      'close #0 evicted [frame 1 t=1000000]',
      'open #1 10.0.0.1:50001 → 10.0.0.2:445 (ports) [frame 1 t=1000000]',
      'data #1 toServer @0 "b" [frame 1 t=1000000]',
    ]);
    expect(tcp.connectionCount).toBe(1);
  });

  it('follows sequence numbers across 2^32 and ignores segments far out of the window', () => {
    const result = run([
      { from: 'c', seq: 0xfffffffd, flags: 'S' },
      { from: 'c', seq: 0xfffffffe, flags: 'PA', data: 'wr' },
      { from: 'c', seq: 0x00000002, flags: 'PA', data: 'ap' }, // 0 and 1 missing: held
      { from: 'c', seq: 0x00000000, flags: 'PA', data: '!!' },
      { from: 'c', seq: 0x80000000, flags: 'PA', data: 'no' },
    ]);
    expect(result.events).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 0 t=0]',
      'data #0 toServer @0 "wr" [frame 1 t=1000000]',
      'data #0 toServer @2 "!!" [frame 3 t=3000000]',
      'data #0 toServer @4 "ap" [frame 2 t=2000000]',
      'close #0 end [frame 4 t=4000000]',
    ]);
    expect(result.diagnostics).toEqual([
      'warning: frame 4: 10.0.0.1:50000 → 10.0.0.2:445: sequence number 2147483648 is 2147483644 bytes from the expected 4; segment ignored [tcp/bad-segment]',
    ]);
  });
});
