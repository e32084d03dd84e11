// Samba AD's JSON audit log as a sensor source: the file followed across rotation and truncation,
// each line normalised to Identity rows (and its raw row) on the sensor; a record line that is not
// valid JSON is a named health issue with its file and offset, and is skipped.
import { readSambaAuditLines, type TableRow } from '@palisade/schema';
import { chunkLimits, type Source, type SourceChunk, type SourceContext } from '../source.ts';
import { type LineTailCheckpoint, type TailLine, tailLines } from './line-tail.ts';
import { reportTailEvent } from './tail-health.ts';

export interface SambaAuditSourceOptions {
  /** The audit log, e.g. `/var/log/samba/auth_json.log`. */
  readonly path: string;
  /** How often to look for new lines; default 250 ms. */
  readonly pollIntervalMs?: number;
  /** Most lines per chunk; default {@link chunkLimits}.maxChunkRecords. */
  readonly maxChunkRecords?: number;
}

/**
 * A source following one Samba JSON audit log (Samba writes one per class: authentication,
 * dsdb changes, group and password changes). Rows name the sensor's device as the DC.
 *
 * @example
 * const source = sambaAuditSource({ path: '/var/log/samba/auth_json.log' });
 */
export function sambaAuditSource(options: SambaAuditSourceOptions): Source<LineTailCheckpoint> {
  const { path } = options;
  return {
    id: `samba-audit:${path}`,
    async *run(from, context) {
      const batches = tailLines(path, from, {
        signal: context.signal,
        maxLines: options.maxChunkRecords ?? chunkLimits.maxChunkRecords,
        ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
        onEvent: (event) => reportTailEvent('samba-audit', event, context),
      });
      for await (const { lines, checkpoint } of batches) {
        const rows = lines.flatMap((line) => rowsOf(line, context));
        // A batch without lines marks the switch to a new file: its position is kept too.
        if (rows.length > 0 || lines.length === 0) yield chunk(rows, checkpoint);
      }
    },
  };
}

function chunk(rows: readonly TableRow[], checkpoint: LineTailCheckpoint): SourceChunk<LineTailCheckpoint> {
  return { rows, events: [], checkpoint };
}

/**
 * The rows of one line. A line holding a brace that is not a JSON record (cut short, garbled) is a
 * `samba-audit/bad-line` issue naming the file and offset; a line without one is another message
 * Samba wrote to the same log (its debug log holds both) and is passed over.
 */
function rowsOf(line: TailLine, context: SourceContext): TableRow[] {
  const { rows, problems } = readSambaAuditLines(line.text, line.file, context.deviceName);
  if (!line.text.includes('{')) return rows;
  for (const problem of problems) {
    context.health({
      code: 'samba-audit/bad-line',
      message: `${line.file}: line at offset ${line.offset}: ${problem.message}; skipped`,
      details: { file: line.file, offset: line.offset },
    });
  }
  return rows;
}
