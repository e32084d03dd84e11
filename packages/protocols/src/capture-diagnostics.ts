// What the capture readers, the link/IP/TCP layers and the reassemblers report besides packets:
// damaged files, undecodable frames, fragments and streams that could not be completed.
import type { ParseError } from '@palisade/binary';

/** Every condition the capture, IP and transport layers report. */
export const captureDiagnosticCodes = [
  'capture/unknown-format',
  'capture/too-many-diagnostics',
  'pcap/bad-header',
  'pcap/bad-record',
  'pcap/truncated-record',
  'pcap/resynchronised',
  'pcapng/bad-section-header',
  'pcapng/bad-block',
  'pcapng/truncated-block',
  'pcapng/unknown-interface',
  'pcapng/resynchronised',
  'link/unsupported-link-type',
  'link/bad-frame',
  'ip/bad-packet',
  'ip/truncated-packet',
  'ip/fragment-overlap',
  'ip/bad-fragment',
  'ip/incomplete-datagram',
  'ip/reassembly-overflow',
  'udp/bad-datagram',
  'tcp/bad-segment',
  'tcp/gap',
  'tcp/buffer-overflow',
  'tcp/connection-evicted',
] as const;

export type CaptureDiagnosticCode = (typeof captureDiagnosticCodes)[number];

/**
 * A finding about one unit of a capture: the file, a frame, a datagram or a stream. `error`
 * units were skipped, `warning`s were used in part, `info` notes a recovery.
 */
export interface CaptureDiagnostic {
  readonly severity: 'error' | 'warning' | 'info';
  readonly code: CaptureDiagnosticCode;
  readonly message: string;
  /** Absolute byte offset in the capture file, when the finding is about bytes of the file. */
  readonly offset?: number;
  /** Zero-based index of the frame (packet record) the finding is about; Wireshark shows it + 1. */
  readonly frame?: number;
}

/** Receives diagnostics while a reader or reassembler runs. */
export type OnCaptureDiagnostic = (diagnostic: CaptureDiagnostic) => void;

/** The message of a ParseError without its position, which a diagnostic carries as `offset`. */
export function parseErrorMessage(e: ParseError): string {
  return `${e.field}: expected ${e.expected}, found ${e.found}`;
}

/** One line of text for a diagnostic: `error: frame 12, offset 0x4a0: message [pcap/bad-record]`. */
export function formatCaptureDiagnostic(d: CaptureDiagnostic): string {
  const where: string[] = [];
  if (d.frame !== undefined) where.push(`frame ${d.frame}`);
  if (d.offset !== undefined) where.push(`offset 0x${d.offset.toString(16)}`);
  return `${d.severity}: ${where.length > 0 ? `${where.join(', ')}: ` : ''}${d.message} [${d.code}]`;
}
