// What the parser reports about a file besides its records: corruption it stepped over and
// records it recovered. Each names the file, chunk, record and byte offset it is about.

/** Every condition the EVTX reader reports. */
export const evtxDiagnosticCodes = [
  'evtx/bad-file-magic',
  'evtx/bad-file-header',
  'evtx/file-header-crc',
  'evtx/dirty-file',
  'evtx/truncated-file',
  'evtx/bad-chunk-magic',
  'evtx/bad-chunk-header',
  'evtx/chunk-header-crc',
  'evtx/chunk-records-crc',
  'evtx/bad-record',
  'evtx/truncated-record',
  'evtx/bad-binxml',
  'evtx/bad-template',
  'evtx/template-cycle',
  'evtx/too-deep',
  'evtx/too-large',
  'evtx/bad-value',
  'evtx/recovered-chunk',
  'evtx/recovered-records',
  'evtx/unrecoverable-records',
] as const;

export type EvtxDiagnosticCode = (typeof evtxDiagnosticCodes)[number];

/** A finding about one unit of the file; `error` units were skipped, `warning`s were read anyway. */
export interface EvtxDiagnostic {
  readonly severity: 'error' | 'warning' | 'info';
  readonly code: EvtxDiagnosticCode;
  readonly message: string;
  /** The file name given by the caller, or `<buffer>`. */
  readonly source: string;
  /** Absolute byte offset in the file. */
  readonly offset: number;
  /** Zero-based chunk index, when the finding is inside a chunk. */
  readonly chunk?: number;
  /** The record identifier, when known. */
  readonly recordId?: number;
}

/** One line of text for a diagnostic: `file: chunk 3, record 1201 at 0x31a40: message`. */
export function formatDiagnostic(d: EvtxDiagnostic): string {
  const where: string[] = [];
  if (d.chunk !== undefined) where.push(`chunk ${d.chunk}`);
  if (d.recordId !== undefined) where.push(`record ${d.recordId}`);
  where.push(`offset 0x${d.offset.toString(16)}`);
  return `${d.source}: ${d.severity}: ${where.join(', ')}: ${d.message} [${d.code}]`;
}
