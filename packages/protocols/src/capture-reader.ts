// One entry point for capture files: recognises pcap or pcapng by the magic number and yields
// their frames, gathering the diagnostics of the file as it goes.

import { hexPreview } from '@palisade/binary';
import type { CaptureDiagnostic } from './capture-diagnostics.ts';
import type { CapturedFrame } from './capture-frame.ts';
import { isPcap, readPcapFrames } from './capture-pcap.ts';
import { isPcapng, readPcapngFrames } from './capture-pcapng.ts';

export const captureFormats = ['pcap', 'pcapng', 'unknown'] as const;
export type CaptureFormat = (typeof captureFormats)[number];

/** A capture being read: iterate `frames` once; `diagnostics` fills up while it runs. */
export interface CaptureReading {
  readonly format: CaptureFormat;
  readonly frames: Iterable<CapturedFrame>;
  readonly diagnostics: CaptureDiagnostic[];
}

/**
 * Reads a whole capture file held in memory. Frames are views into `bytes`.
 * @example
 * const { frames, diagnostics } = readCapture(readFileSync('dc.pcapng'));
 * for (const frame of frames) console.log(frame.index, frame.timestampUs, frame.data.length);
 */
export function readCapture(file: Uint8Array): CaptureReading {
  // A plain view of the same memory: a Node Buffer's subarray makes another Buffer, several
  // times dearer than a Uint8Array's, and every frame and header below is such a view.
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  const diagnostics: CaptureDiagnostic[] = [];
  const report = (d: CaptureDiagnostic) => {
    diagnostics.push(d);
  };
  if (isPcapng(bytes)) return { format: 'pcapng', frames: readPcapngFrames(bytes, report), diagnostics };
  if (isPcap(bytes)) return { format: 'pcap', frames: readPcapFrames(bytes, report), diagnostics };
  diagnostics.push({
    severity: 'error',
    code: 'capture/unknown-format',
    message: `file magic: expected a pcap (A1 B2 C3 D4, A1 B2 3C 4D) or pcapng (0A 0D 0D 0A) magic, found ${hexPreview(bytes, 0, 4)}`,
    offset: 0,
  });
  return { format: 'unknown', frames: [], diagnostics };
}
