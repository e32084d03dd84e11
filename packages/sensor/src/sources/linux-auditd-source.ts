// The Linux audit log as a sensor source: /var/log/audit/audit.log followed across rotation by the
// line tailer, its records grouped into events and turned into Device rows by AuditdNormaliser. The
// checkpoint keeps the tail position of the oldest event still open and the ids of the events after
// it that already made rows, so a restart re-reads a half-read event without sending any row twice.
import { chunkLimits, type Source, type SourceChunk } from '../source.ts';
import { type LineTailCheckpoint, tailLines } from './line-tail.ts';
import { AuditdNormaliser } from './linux-auditd.ts';
import { reportTailEvent } from './tail-health.ts';

export type AuditdCheckpoint = { readonly tail: LineTailCheckpoint; readonly emitted: readonly string[] };

export interface AuditdSourceOptions {
  /** The audit log, e.g. `/var/log/audit/audit.log`. */
  readonly path: string;
  /** How often to look for new lines; default 250 ms. */
  readonly pollIntervalMs?: number;
  /** Most lines per chunk; default {@link chunkLimits}.maxChunkRecords. */
  readonly maxChunkRecords?: number;
}

/**
 * A source following the Linux audit log.
 * @example
 * const source = auditdSource({ path: '/var/log/audit/audit.log' });
 */
export function auditdSource(options: AuditdSourceOptions): Source<AuditdCheckpoint> {
  const { path } = options;
  return {
    id: `auditd:${path}`,
    async *run(from, context) {
      const maxLines = options.maxChunkRecords ?? chunkLimits.maxChunkRecords;
      const normaliser = new AuditdNormaliser({
        deviceName: context.deviceName,
        source: path,
        ...(from ? { skip: from.emitted } : {}),
      });
      const lines = tailLines(path, from?.tail, {
        signal: context.signal,
        maxLines,
        ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
        onEvent: (event) => reportTailEvent('auditd', event, context),
      });
      for await (const batch of lines) {
        const out = { rows: [] as SourceChunk['rows'][number][], problems: 0 };
        const take = (result: ReturnType<AuditdNormaliser['push']>) => {
          out.rows.push(...result.rows);
          for (const d of result.diagnostics) {
            out.problems++;
            context.health({
              code: 'auditd/malformed-record',
              message: `${path} at byte ${d.offset}: ${d.message}`,
              details: { offset: d.offset },
            });
          }
        };
        for (const line of batch.lines) take(normaliser.push(line.text, line.offset));
        // A batch without lines marks the switch to a new file; a short one, the end of what is
        // written. auditd writes an event's records together, so at either point the open events
        // are complete (the last one may lack its PROCTITLE, which ends an event otherwise).
        if (batch.lines.length < maxLines) take(normaliser.flush());
        const resume = normaliser.resumePoint();
        const checkpoint: AuditdCheckpoint = {
          tail:
            resume.offset === undefined ? batch.checkpoint : { ...batch.checkpoint, offset: resume.offset },
          emitted: resume.emitted,
        };
        yield { rows: out.rows, events: [], checkpoint };
      }
    },
  };
}
