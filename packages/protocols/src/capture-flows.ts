// The network half's pipeline: frames → link layer → IP (with fragment reassembly) → UDP
// datagrams and TCP stream events, in capture order. `FlowDecoder` takes frames one at a time
// (live capture); `readFlows` runs it over a whole capture file.
import { ParseError } from '@palisade/binary';
import {
  type CaptureDiagnostic,
  type CaptureDiagnosticCode,
  type OnCaptureDiagnostic,
  parseErrorMessage,
} from './capture-diagnostics.ts';
import type { CapturedFrame } from './capture-frame.ts';
import { type CaptureFormat, readCapture } from './capture-reader.ts';
import { decodeIpv4, decodeIpv6, type IpPacket, IpReassembler, type IpReassemblyOptions } from './ip.ts';
import { decodeLinkLayer, supportedLinkTypes } from './link-layer.ts';
import {
  type Endpoint,
  type StreamEvent,
  TcpReassembler,
  type TcpReassemblyOptions,
} from './tcp-reassembly.ts';
import { decodeTcp, decodeUdp, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from './transport.ts';

/** One UDP datagram, after IP reassembly. */
export interface UdpDatagram {
  readonly kind: 'udp';
  readonly src: Endpoint;
  readonly dst: Endpoint;
  /** A view into the frame, or into the reassembled datagram. */
  readonly payload: Uint8Array;
  readonly timestampUs: number;
  /** Index of the frame that carried it (the last fragment's, when reassembled). */
  readonly frame: number;
}

/** What the pipeline yields: UDP datagrams and TCP stream events, in capture order. */
export type FlowItem = UdpDatagram | StreamEvent;

/** Counts of what the pipeline saw, by layer. */
export interface FlowStats {
  frames: number;
  /** Frames whose link layer carried something other than IP (ARP, LLC, unsupported link types). */
  nonIp: number;
  /** Frames that failed to decode at some layer (each has a diagnostic). */
  undecodable: number;
  ipv4: number;
  ipv6: number;
  fragments: number;
  /** Datagrams completed from fragments. */
  reassembled: number;
  tcpSegments: number;
  udpDatagrams: number;
  /** IP datagrams of other protocols (ICMP, GRE, ESP, …). */
  otherIp: number;
}

/** Options of the pipeline's layers. */
export interface FlowOptions {
  readonly ip?: Omit<IpReassemblyOptions, 'onDiagnostic'>;
  readonly tcp?: Omit<TcpReassemblyOptions, 'onDiagnostic'>;
  readonly onDiagnostic?: OnCaptureDiagnostic;
}

const NO_ITEMS: readonly FlowItem[] = Object.freeze([]);

/**
 * Decodes captured frames one at a time into UDP datagrams and TCP stream events.
 * @example
 * const decoder = new FlowDecoder({ onDiagnostic: report });
 * for (const frame of frames) for (const item of decoder.push(frame)) route(item);
 * for (const item of decoder.finish()) route(item);
 */
export class FlowDecoder {
  readonly stats: FlowStats = {
    frames: 0,
    nonIp: 0,
    undecodable: 0,
    ipv4: 0,
    ipv6: 0,
    fragments: 0,
    reassembled: 0,
    tcpSegments: 0,
    udpDatagrams: 0,
    otherIp: 0,
  };
  readonly #report: OnCaptureDiagnostic;
  readonly #ip: IpReassembler;
  readonly #tcp: TcpReassembler;
  readonly #unsupported = new Set<number>();

  constructor(options: FlowOptions = {}) {
    this.#report = options.onDiagnostic ?? (() => {});
    this.#ip = new IpReassembler({ ...options.ip, onDiagnostic: this.#report });
    this.#tcp = new TcpReassembler({ ...options.tcp, onDiagnostic: this.#report });
  }

  /** Takes the next frame in capture order; returns what it completes, possibly nothing. */
  push(frame: CapturedFrame): readonly FlowItem[] {
    const stats = this.stats;
    stats.frames++;
    if (!supportedLinkTypes.has(frame.linkType)) {
      if (!this.#unsupported.has(frame.linkType)) {
        this.#unsupported.add(frame.linkType);
        this.#report({
          severity: 'warning',
          code: 'link/unsupported-link-type',
          message: `link type ${frame.linkType} is not decoded; its frames are skipped`,
          frame: frame.index,
        });
      }
      stats.nonIp++;
      return NO_ITEMS;
    }
    let stage: CaptureDiagnosticCode = 'link/bad-frame';
    try {
      const link = decodeLinkLayer(frame.linkType, frame.data, frame.offset);
      if (link.kind === 'other') {
        stats.nonIp++;
        return NO_ITEMS;
      }
      stage = 'ip/bad-packet';
      const base = frame.offset + (link.payload.byteOffset - frame.data.byteOffset);
      const packet = link.kind === 'ipv4' ? decodeIpv4(link.payload, base) : decodeIpv6(link.payload, base);
      if (packet.version === 4) stats.ipv4++;
      else stats.ipv6++;
      if (packet.truncated && packet.fragment === undefined) {
        this.#report({
          severity: 'warning',
          code: 'ip/truncated-packet',
          message: `${packet.src} → ${packet.dst}: the capture holds fewer bytes than the IP header declares`,
          frame: frame.index,
        });
      }
      if (packet.fragment !== undefined) stats.fragments++;
      const whole = this.#ip.push(packet, frame.timestampUs, frame.index);
      if (whole === undefined) return NO_ITEMS;
      if (whole !== packet) stats.reassembled++;
      return this.#transport(whole, whole !== packet, frame);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      stats.undecodable++;
      this.#report({
        severity: 'error',
        code: stage,
        message: parseErrorMessage(e),
        offset: e.offset,
        frame: frame.index,
      });
      return NO_ITEMS;
    }
  }

  /** Ends the input: gives up incomplete datagrams and closes every TCP connection. */
  finish(): readonly FlowItem[] {
    this.#ip.flush();
    return this.#tcp.flush();
  }

  #transport(packet: IpPacket, reassembled: boolean, frame: CapturedFrame): readonly FlowItem[] {
    // A reassembled datagram has no place in the file; its offsets count from its first byte.
    const base = reassembled ? 0 : frame.offset + (packet.payload.byteOffset - frame.data.byteOffset);
    try {
      if (packet.protocol === IP_PROTOCOL_TCP) {
        const tcp = decodeTcp(packet.payload, base);
        this.stats.tcpSegments++;
        return this.#tcp.push({
          src: packet.src,
          dst: packet.dst,
          srcPort: tcp.srcPort,
          dstPort: tcp.dstPort,
          seq: tcp.seq,
          ack: tcp.ack,
          flags: tcp.flags,
          window: tcp.window,
          payload: tcp.payload,
          timestampUs: frame.timestampUs,
          frame: frame.index,
        });
      }
      if (packet.protocol === IP_PROTOCOL_UDP) {
        const udp = decodeUdp(packet.payload, base);
        this.stats.udpDatagrams++;
        return [
          {
            kind: 'udp',
            src: { ip: packet.src, port: udp.srcPort },
            dst: { ip: packet.dst, port: udp.dstPort },
            payload: udp.payload,
            timestampUs: frame.timestampUs,
            frame: frame.index,
          },
        ];
      }
      this.stats.otherIp++;
      return NO_ITEMS;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.stats.undecodable++;
      const code = packet.protocol === IP_PROTOCOL_TCP ? 'tcp/bad-segment' : 'udp/bad-datagram';
      const message = reassembled
        ? `${parseErrorMessage(e)} at ${e.offset} in the reassembled datagram`
        : parseErrorMessage(e);
      this.#report({
        severity: 'error',
        code,
        message,
        ...(reassembled ? {} : { offset: e.offset }),
        frame: frame.index,
      });
      return NO_ITEMS;
    }
  }
}

/** A whole capture being decoded: iterate `items` once; `diagnostics` and `stats` fill up meanwhile. */
export interface FlowReading {
  readonly format: CaptureFormat;
  readonly items: Iterable<FlowItem>;
  readonly diagnostics: CaptureDiagnostic[];
  readonly stats: FlowStats;
}

/** `FlowOptions` for a whole file, with a cap on repeated diagnostics. */
export interface ReadFlowsOptions extends Omit<FlowOptions, 'onDiagnostic'> {
  /** Diagnostics kept per code; the rest are counted in one `capture/too-many-diagnostics`. Default 1000. */
  readonly maxDiagnosticsPerCode?: number;
}

/**
 * Reads a capture file held in memory into UDP datagrams and TCP stream events, in capture
 * order, with every diagnostic of every layer.
 * @example
 * const { items, diagnostics } = readFlows(readFileSync('dc.pcap'));
 * for (const item of items) if (item.kind === 'data' && item.flow.server.port === 88) decode(item.bytes);
 */
export function readFlows(bytes: Uint8Array, options: ReadFlowsOptions = {}): FlowReading {
  const limit = options.maxDiagnosticsPerCode ?? 1000;
  const diagnostics: CaptureDiagnostic[] = [];
  const counts = new Map<CaptureDiagnosticCode, number>();
  const collect = (d: CaptureDiagnostic) => {
    const n = (counts.get(d.code) ?? 0) + 1;
    counts.set(d.code, n);
    if (n <= limit) diagnostics.push(d);
  };
  const capture = readCapture(bytes);
  const decoder = new FlowDecoder({ ...options, onDiagnostic: collect });
  function* items(): Generator<FlowItem> {
    for (const frame of capture.frames) {
      // The file reader reports into its own list while it runs; move those over in order.
      if (capture.diagnostics.length > 0) for (const d of capture.diagnostics.splice(0)) collect(d);
      yield* decoder.push(frame);
    }
    for (const d of capture.diagnostics.splice(0)) collect(d);
    yield* decoder.finish();
    for (const [code, n] of counts) {
      if (n <= limit) continue;
      diagnostics.push({
        severity: 'info',
        code: 'capture/too-many-diagnostics',
        message: `${n - limit} more ${code} diagnostics were not kept (limit ${limit} per code)`,
      });
    }
  }
  for (const d of capture.diagnostics.splice(0)) collect(d);
  return { format: capture.format, items: items(), diagnostics, stats: decoder.stats };
}
