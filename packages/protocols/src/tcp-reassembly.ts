// TCP stream reassembly (RFC 9293): per connection and direction, segments in sequence order
// as byte chunks, retransmissions and overlaps removed, out-of-order data held until the hole
// fills, and holes that never fill reported as gaps so a decoder can resynchronise.
import type { OnCaptureDiagnostic } from './capture-diagnostics.ts';
import { type TcpHeader, tcpFlags } from './transport.ts';

/** One end of a connection. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** A TCP connection; one object per connection, shared by all its events. */
export interface TcpFlow {
  /** Sequential number of the connection within one reassembler, from 0. */
  readonly id: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  /**
   * How the roles were decided: from the SYN or SYN-ACK, or guessed from the ports when the
   * handshake was not captured (see `serverSideByPorts`).
   */
  readonly roles: 'handshake' | 'ports';
}

export const streamDirections = ['toServer', 'toClient'] as const;
export type StreamDirection = (typeof streamDirections)[number];

export const closeReasons = ['fin', 'rst', 'timeout', 'evicted', 'reused', 'end'] as const;
/**
 * Why a connection ended: both FINs delivered, a RST, idle past the timeout, evicted to make
 * room, replaced by a new handshake on the same ports, or the end of the input (`flush`).
 */
export type CloseReason = (typeof closeReasons)[number];

interface EventBase {
  readonly flow: TcpFlow;
  /** Capture time of the packet that carried the bytes or caused the event (µs since the epoch). */
  readonly timestampUs: number;
  /** Index of that packet's frame in the capture. */
  readonly frame: number;
}

/** A new connection; always the first event of a flow. */
export interface StreamOpen extends EventBase {
  readonly kind: 'open';
}

/** The next bytes of one direction, in order and without duplicates. */
export interface StreamData extends EventBase {
  readonly kind: 'data';
  readonly direction: StreamDirection;
  /** Position of `bytes[0]` in this direction's stream, counting gap bytes too. */
  readonly offset: number;
  /**
   * A view into the captured packet when it arrived in order, a copy when it waited; use it
   * before the capture buffer changes.
   */
  readonly bytes: Uint8Array;
}

/** Bytes of one direction that were not captured: the stream continues at `offset + length`. */
export interface StreamGap extends EventBase {
  readonly kind: 'gap';
  readonly direction: StreamDirection;
  readonly offset: number;
  readonly length: number;
}

/** The end of a connection; always the last event of a flow. */
export interface StreamClose extends EventBase {
  readonly kind: 'close';
  readonly reason: CloseReason;
}

export type StreamEvent = StreamOpen | StreamData | StreamGap | StreamClose;

/** A TCP header with the addresses and capture position of the packet it came in. */
export interface TcpSegment extends TcpHeader {
  readonly src: string;
  readonly dst: string;
  readonly timestampUs: number;
  readonly frame: number;
}

/** Limits and timeouts of a `TcpReassembler`; times are capture times in microseconds. */
export interface TcpReassemblyOptions {
  /** Out-of-order bytes held per direction before the hole in front of them is declared a gap. Default 1 MiB. */
  readonly maxPendingBytesPerDirection?: number;
  /** Out-of-order bytes held over all connections. Default 64 MiB. */
  readonly maxPendingBytes?: number;
  /** Connections tracked at once; the oldest is evicted beyond it. Default 65,536. */
  readonly maxConnections?: number;
  /** How long a hole may wait for a retransmission before it becomes a gap. Default 10 s. */
  readonly holeTimeoutUs?: number;
  /** A connection silent this long is closed with reason `timeout`. Default 10 min. */
  readonly idleTimeoutUs?: number;
  /** How long after a FIN or RST close late segments of the connection are ignored. Default 2 min. */
  readonly closedTimeoutUs?: number;
  readonly onDiagnostic?: OnCaptureDiagnostic;
}

/**
 * Ports on which Windows domain controllers and common servers listen: DNS, Kerberos, RPC
 * endpoint mapper, NetBIOS session, LDAP, SMB, kpasswd, RPC over HTTP, LDAPS, global catalog,
 * WinRM, AD Web Services, SSH, SMTP, HTTP(S), MS SQL, RDP.
 */
export const serverPorts: ReadonlySet<number> = new Set([
  53, 88, 135, 139, 389, 445, 464, 593, 636, 3268, 3269, 5985, 5986, 9389, 22, 25, 80, 443, 1433, 3389,
]);

/**
 * Which side of a connection without a captured handshake is the server: a port in
 * `serverPorts`; else a port below 1024 against one above; else a Windows dynamic RPC port
 * (49152–65535) against a Linux ephemeral one (32768–49151); else the lower port.
 */
export function serverSideByPorts(srcPort: number, dstPort: number): 'src' | 'dst' {
  const srcKnown = serverPorts.has(srcPort);
  if (srcKnown !== serverPorts.has(dstPort)) return srcKnown ? 'src' : 'dst';
  if (srcPort < 1024 !== dstPort < 1024) return srcPort < 1024 ? 'src' : 'dst';
  const linuxEphemeral = (p: number) => p >= 32768 && p < 49152;
  if (srcPort >= 49152 && linuxEphemeral(dstPort)) return 'src';
  if (dstPort >= 49152 && linuxEphemeral(srcPort)) return 'dst';
  return srcPort <= dstPort ? 'src' : 'dst';
}

interface Chunk {
  readonly start: number;
  readonly data: Uint8Array;
  readonly timestampUs: number;
  readonly frame: number;
}

// One direction of a connection. Stream offsets count bytes from the first one seen (after the
// SYN, or the first data when the handshake was missed); `nextSeq` is the sequence number of
// the byte at `delivered`, so a segment's offset is `delivered` plus its signed distance.
class Half {
  known = false;
  isn = -1;
  nextSeq = 0;
  delivered = 0;
  pending: Chunk[] = [];
  pendingBytes = 0;
  /** Stream offset of the FIN, -1 until one is seen. */
  finAt = -1;
  /** Highest stream offset the peer acknowledged, -1 until then. */
  ackedUpTo = -1;

  get finished(): boolean {
    return this.finAt >= 0 && this.delivered >= this.finAt;
  }
}

interface Connection {
  readonly key: string;
  readonly flow: TcpFlow;
  /** [toServer, toClient] */
  readonly halves: readonly [Half, Half];
  lastSeenUs: number;
  lastFrame: number;
}

// Segments further than this from the expected sequence number are not part of the stream.
const WINDOW = 2 ** 30;
const SWEEP_INTERVAL_US = 1_000_000;

/**
 * Reassembles TCP streams from segments in capture order.
 * @example
 * const tcp = new TcpReassembler({ onDiagnostic: (d) => diagnostics.push(d) });
 * for (const segment of segments) for (const event of tcp.push(segment)) handle(event);
 * for (const event of tcp.flush()) handle(event);
 */
export class TcpReassembler {
  readonly #maxPendingPerDirection: number;
  readonly #maxPendingTotal: number;
  readonly #maxConnections: number;
  readonly #holeTimeoutUs: number;
  readonly #idleTimeoutUs: number;
  readonly #closedTimeoutUs: number;
  readonly #report: OnCaptureDiagnostic;
  readonly #connections = new Map<string, Connection>();
  /** Keys of connections closed by FIN or RST, with the time they closed. */
  readonly #closed = new Map<string, number>();
  #pendingTotal = 0;
  #last: Connection | undefined;
  #nextId = 0;
  #lastSweepUs = Number.NEGATIVE_INFINITY;

  constructor(options: TcpReassemblyOptions = {}) {
    this.#maxPendingPerDirection = options.maxPendingBytesPerDirection ?? 1024 * 1024;
    this.#maxPendingTotal = options.maxPendingBytes ?? 64 * 1024 * 1024;
    this.#maxConnections = options.maxConnections ?? 65_536;
    this.#holeTimeoutUs = options.holeTimeoutUs ?? 10_000_000;
    this.#idleTimeoutUs = options.idleTimeoutUs ?? 600_000_000;
    this.#closedTimeoutUs = options.closedTimeoutUs ?? 120_000_000;
    this.#report = options.onDiagnostic ?? (() => {});
  }

  /** Connections being tracked. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Out-of-order bytes held over all connections. */
  get pendingBytes(): number {
    return this.#pendingTotal;
  }

  /** Takes the next segment in capture order; returns the events it causes, possibly none. */
  push(segment: TcpSegment): readonly StreamEvent[] {
    const events: StreamEvent[] = [];
    const now = segment.timestampUs;
    if (now - this.#lastSweepUs >= SWEEP_INTERVAL_US) this.#sweep(now, segment.frame, events);
    const { flags, payload } = segment;
    const syn = (flags & tcpFlags.syn) !== 0;
    const ack = (flags & tcpFlags.ack) !== 0;
    // Packets come in bursts of one connection: try the last one before building a map key.
    const last = this.#last;
    let conn = last !== undefined && belongs(last, segment) ? last : undefined;
    const key = conn?.key ?? connectionKey(segment);
    conn ??= this.#connections.get(key);

    if (syn) {
      // SYN comes from the client, SYN-ACK from the server.
      const fromClient = !ack;
      if (conn !== undefined) {
        const agrees = this.#fromClient(conn, segment) === fromClient;
        const half = conn.halves[fromClient ? 0 : 1];
        const same = agrees && (half.isn === segment.seq || (!fromClient && !half.known));
        if (!same) {
          this.#close(conn, 'reused', now, segment.frame, events);
          conn = undefined;
        } else if (fromClient) {
          return events; // a retransmitted SYN
        }
      }
      if (conn === undefined) {
        this.#closed.delete(key);
        conn = this.#open(key, segment, fromClient ? 'src' : 'dst', 'handshake', events);
      }
      const half = conn.halves[fromClient ? 0 : 1];
      if (half.isn !== segment.seq) {
        half.known = true;
        half.isn = segment.seq;
        half.nextSeq = (segment.seq + 1) >>> 0;
      }
    } else if (conn === undefined) {
      // Without a handshake only data starts a connection; late ACKs, FINs and RSTs of a closed
      // connection are not a new one.
      if (payload.length === 0 || (flags & tcpFlags.rst) !== 0 || this.#closed.has(key)) {
        return events;
      }
      conn = this.#open(
        key,
        segment,
        serverSideByPorts(segment.srcPort, segment.dstPort) === 'src' ? 'dst' : 'src',
        'ports',
        events,
      );
    }
    conn.lastSeenUs = now;
    conn.lastFrame = segment.frame;
    this.#last = conn;

    if ((flags & tcpFlags.rst) !== 0) {
      this.#close(conn, 'rst', now, segment.frame, events);
      return events;
    }

    const direction = this.#fromClient(conn, segment) ? 0 : 1;
    const half = conn.halves[direction];
    const peer = direction === 0 ? conn.halves[1] : conn.halves[0];
    const fin = (flags & tcpFlags.fin) !== 0;
    if (payload.length > 0 || fin) {
      if (!half.known) {
        half.known = true;
        half.nextSeq = segment.seq;
      }
      const dataSeq = syn ? (segment.seq + 1) >>> 0 : segment.seq;
      const distance = (dataSeq - half.nextSeq) | 0;
      if (distance > WINDOW || distance < -WINDOW) {
        this.#report({
          severity: 'warning',
          code: 'tcp/bad-segment',
          message: `${describe(conn, direction)}: sequence number ${dataSeq} is ${distance} bytes from the expected ${half.nextSeq}; segment ignored`,
          frame: segment.frame,
        });
      } else {
        const at = half.delivered + distance;
        if (fin && half.finAt < 0) half.finAt = at + payload.length;
        if (payload.length > 0) this.#accept(conn, direction, at, segment, events);
      }
    }
    if (ack && peer.known) {
      const distance = (segment.ack - peer.nextSeq) | 0;
      if (distance > 0 && distance <= WINDOW)
        peer.ackedUpTo = Math.max(peer.ackedUpTo, peer.delivered + distance);
    }

    this.#settle(conn, 0, now, segment.frame, events);
    this.#settle(conn, 1, now, segment.frame, events);
    this.#limitPending(conn, direction, now, segment.frame, events);
    if (conn.halves[0].finished && conn.halves[1].finished)
      this.#close(conn, 'fin', now, segment.frame, events);
    return events;
  }

  /** Closes every connection, reporting what is still missing, at the end of the input. */
  flush(): StreamEvent[] {
    const events: StreamEvent[] = [];
    for (const conn of this.#connections.values()) {
      this.#close(conn, 'end', conn.lastSeenUs, conn.lastFrame, events);
    }
    this.#closed.clear();
    return events;
  }

  #fromClient(conn: Connection, segment: TcpSegment): boolean {
    const client = conn.flow.client;
    return client.port === segment.srcPort && client.ip === segment.src;
  }

  #open(
    key: string,
    segment: TcpSegment,
    client: 'src' | 'dst',
    roles: TcpFlow['roles'],
    events: StreamEvent[],
  ): Connection {
    if (this.#connections.size >= this.#maxConnections) {
      this.#sweep(segment.timestampUs, segment.frame, events);
      for (const oldest of this.#connections.values()) {
        if (this.#connections.size < this.#maxConnections) break;
        this.#report({
          severity: 'warning',
          code: 'tcp/connection-evicted',
          message: `${describe(oldest, 0)}: evicted to track a new connection (limit ${this.#maxConnections})`,
          frame: segment.frame,
        });
        this.#close(oldest, 'evicted', segment.timestampUs, segment.frame, events);
      }
    }
    const src = { ip: segment.src, port: segment.srcPort };
    const dst = { ip: segment.dst, port: segment.dstPort };
    const flow: TcpFlow = {
      id: this.#nextId++,
      client: client === 'src' ? src : dst,
      server: client === 'src' ? dst : src,
      roles,
    };
    const conn: Connection = {
      key,
      flow,
      halves: [new Half(), new Half()],
      lastSeenUs: segment.timestampUs,
      lastFrame: segment.frame,
    };
    this.#connections.set(key, conn);
    events.push({ kind: 'open', flow, timestampUs: segment.timestampUs, frame: segment.frame });
    return conn;
  }

  // Delivers the new part of a segment at stream offset `at`, or holds it if a hole is before it.
  #accept(conn: Connection, direction: 0 | 1, at: number, segment: TcpSegment, events: StreamEvent[]): void {
    const half = conn.halves[direction];
    let data = segment.payload;
    let start = at;
    if (start + data.length <= half.delivered) return; // a retransmission of delivered bytes
    if (start < half.delivered) {
      data = data.subarray(half.delivered - start);
      start = half.delivered;
    }
    if (start === half.delivered) {
      this.#deliver(conn, direction, data, segment.timestampUs, segment.frame, events);
      return;
    }
    const pending = half.pending;
    // Mostly later than everything held: search from the end.
    let i = pending.length;
    while (i > 0 && (pending[i - 1] as Chunk).start > start) i--;
    const before = pending[i - 1];
    if (before !== undefined && before.start === start && before.data.length >= data.length) return;
    pending.splice(i, 0, {
      start,
      // A copy that owns its bytes (`slice` on a Node Buffer would return a view).
      data: new Uint8Array(data),
      timestampUs: segment.timestampUs,
      frame: segment.frame,
    });
    half.pendingBytes += data.length;
    this.#pendingTotal += data.length;
  }

  #deliver(
    conn: Connection,
    direction: 0 | 1,
    bytes: Uint8Array,
    timestampUs: number,
    frame: number,
    events: StreamEvent[],
  ): void {
    const half = conn.halves[direction];
    events.push({
      kind: 'data',
      flow: conn.flow,
      direction: streamDirections[direction],
      offset: half.delivered,
      bytes,
      timestampUs,
      frame,
    });
    half.delivered += bytes.length;
    half.nextSeq = (half.nextSeq + bytes.length) >>> 0;
  }

  // Ends a hole that waited too long, then delivers what has become contiguous.
  #settle(conn: Connection, direction: 0 | 1, now: number, frame: number, events: StreamEvent[]): void {
    const half = conn.halves[direction];
    if (half.pending.length === 0 && half.finAt < 0) return;
    const head = half.pending[0];
    if (head !== undefined && now - head.timestampUs > this.#holeTimeoutUs) {
      this.#fillHole(conn, direction, now, frame, events);
    }
    this.#advance(conn, direction, now, frame, events);
  }

  // Delivers held chunks that have become contiguous, and declares a gap where the peer has
  // acknowledged bytes the capture never had (they will not be retransmitted).
  #advance(conn: Connection, direction: 0 | 1, now: number, frame: number, events: StreamEvent[]): void {
    const half = conn.halves[direction];
    for (;;) {
      this.#drain(conn, direction, events);
      const frontier = half.pending[0]?.start ?? (half.finAt > half.delivered ? half.finAt : -1);
      if (frontier < 0 || half.ackedUpTo <= half.delivered) return;
      this.#gap(conn, direction, Math.min(frontier, half.ackedUpTo) - half.delivered, now, frame, events);
    }
  }

  #drain(conn: Connection, direction: 0 | 1, events: StreamEvent[]): void {
    const half = conn.halves[direction];
    let taken = 0;
    for (const chunk of half.pending) {
      if (chunk.start > half.delivered) break;
      taken++;
      half.pendingBytes -= chunk.data.length;
      this.#pendingTotal -= chunk.data.length;
      const end = chunk.start + chunk.data.length;
      if (end > half.delivered) {
        this.#deliver(
          conn,
          direction,
          chunk.data.subarray(half.delivered - chunk.start),
          chunk.timestampUs,
          chunk.frame,
          events,
        );
      }
    }
    if (taken > 0) half.pending.splice(0, taken);
  }

  // Gives up on the hole before the first held chunk and delivers what follows it.
  #fillHole(conn: Connection, direction: 0 | 1, now: number, frame: number, events: StreamEvent[]): void {
    const half = conn.halves[direction];
    const head = half.pending[0];
    if (head === undefined) return;
    this.#gap(conn, direction, head.start - half.delivered, now, frame, events);
    this.#drain(conn, direction, events);
  }

  #gap(
    conn: Connection,
    direction: 0 | 1,
    length: number,
    now: number,
    frame: number,
    events: StreamEvent[],
  ): void {
    if (length <= 0) return;
    const half = conn.halves[direction];
    events.push({
      kind: 'gap',
      flow: conn.flow,
      direction: streamDirections[direction],
      offset: half.delivered,
      length,
      timestampUs: now,
      frame,
    });
    this.#report({
      severity: 'warning',
      code: 'tcp/gap',
      message: `${describe(conn, direction)}: ${length} bytes missing from stream offset ${half.delivered}`,
      frame,
    });
    half.delivered += length;
    half.nextSeq = (half.nextSeq + length) >>> 0;
  }

  #limitPending(conn: Connection, direction: 0 | 1, now: number, frame: number, events: StreamEvent[]): void {
    const half = conn.halves[direction];
    if (half.pendingBytes > this.#maxPendingPerDirection) {
      this.#overflow(conn, direction, `more than ${this.#maxPendingPerDirection} bytes out of order`, frame);
      while (half.pendingBytes > this.#maxPendingPerDirection)
        this.#fillHole(conn, direction, now, frame, events);
    }
    while (this.#pendingTotal > this.#maxPendingTotal) {
      // The direction holding the most gives way.
      let largest: [Connection, 0 | 1] | undefined;
      let most = 0;
      for (const c of this.#connections.values()) {
        for (const d of [0, 1] as const) {
          if (c.halves[d].pendingBytes > most) {
            most = c.halves[d].pendingBytes;
            largest = [c, d];
          }
        }
      }
      if (largest === undefined) return;
      this.#overflow(
        largest[0],
        largest[1],
        `more than ${this.#maxPendingTotal} bytes out of order in all connections`,
        frame,
      );
      this.#fillHole(largest[0], largest[1], now, frame, events);
    }
  }

  #overflow(conn: Connection, direction: 0 | 1, why: string, frame: number): void {
    this.#report({
      severity: 'warning',
      code: 'tcp/buffer-overflow',
      message: `${describe(conn, direction)}: ${why}; the hole before them becomes a gap`,
      frame,
    });
  }

  #close(conn: Connection, reason: CloseReason, now: number, frame: number, events: StreamEvent[]): void {
    for (const direction of [0, 1] as const) {
      const half = conn.halves[direction];
      while (half.pending.length > 0) this.#fillHole(conn, direction, now, frame, events);
      // Bytes before the FIN, or that the peer acknowledged, which the capture does not have.
      const end = half.finAt >= 0 ? half.finAt : half.ackedUpTo;
      if (end > half.delivered) this.#gap(conn, direction, end - half.delivered, now, frame, events);
    }
    events.push({ kind: 'close', flow: conn.flow, reason, timestampUs: now, frame });
    this.#connections.delete(conn.key);
    if (this.#last === conn) this.#last = undefined;
    if (reason === 'fin' || reason === 'rst') {
      // Re-inserted so the map stays in closing order for the sweep.
      this.#closed.delete(conn.key);
      this.#closed.set(conn.key, now);
      if (this.#closed.size > this.#maxConnections) {
        for (const oldest of this.#closed.keys()) {
          this.#closed.delete(oldest);
          break;
        }
      }
    }
  }

  #sweep(now: number, frame: number, events: StreamEvent[]): void {
    this.#lastSweepUs = now;
    for (const conn of this.#connections.values()) {
      if (now - conn.lastSeenUs > this.#idleTimeoutUs) {
        this.#close(conn, 'timeout', now, frame, events);
        continue;
      }
      this.#settle(conn, 0, now, frame, events);
      this.#settle(conn, 1, now, frame, events);
    }
    for (const [key, closedAt] of this.#closed) {
      if (now - closedAt <= this.#closedTimeoutUs) break;
      this.#closed.delete(key);
    }
  }
}

function belongs(conn: Connection, s: TcpSegment): boolean {
  const { client, server } = conn.flow;
  return (
    (client.port === s.srcPort && server.port === s.dstPort && client.ip === s.src && server.ip === s.dst) ||
    (client.port === s.dstPort && server.port === s.srcPort && client.ip === s.dst && server.ip === s.src)
  );
}

// The same key for both directions: the endpoint that sorts first leads.
function connectionKey(s: TcpSegment): string {
  const srcFirst = s.src < s.dst || (s.src === s.dst && s.srcPort <= s.dstPort);
  return srcFirst
    ? `${s.src} ${s.srcPort} ${s.dst} ${s.dstPort}`
    : `${s.dst} ${s.dstPort} ${s.src} ${s.srcPort}`;
}

function describe(conn: Connection, direction: 0 | 1): string {
  const { client, server } = conn.flow;
  const c = `${client.ip}:${client.port}`;
  const s = `${server.ip}:${server.port}`;
  return direction === 0 ? `${c} → ${s}` : `${s} → ${c}`;
}
