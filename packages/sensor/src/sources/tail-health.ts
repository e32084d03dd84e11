// What a followed log's events mean as health: one named issue per kind under the source's prefix
// (`samba-audit/rotated-away`, `linux-audit/truncated`), reported through the source context.
import type { SourceContext } from '../source.ts';
import type { TailEvent } from './line-tail.ts';

/**
 * Reports a {@link TailEvent} through `context` as a health issue `<prefix>/<kind>`, or clears
 * `file-missing` and `unreadable` when the file is there again. A normal rotation is no issue.
 */
export function reportTailEvent(prefix: string, event: TailEvent, context: SourceContext): void {
  switch (event.kind) {
    case 'missing':
      context.health({
        code: `${prefix}/file-missing`,
        message: `${event.path} does not exist (yet); waiting for it`,
        details: { file: event.path },
      });
      return;
    case 'found':
      context.clearHealth(`${prefix}/file-missing`);
      context.clearHealth(`${prefix}/unreadable`);
      return;
    case 'unreadable':
      context.health({
        code: `${prefix}/unreadable`,
        message: `cannot read ${event.path}: ${event.message}`,
        details: { file: event.path },
      });
      return;
    case 'truncated':
      context.health({
        code: `${prefix}/truncated`,
        message: `${event.path} was truncated or rewritten (now ${event.size} bytes, read up to ${event.offset}); reading it again from its start, records written before the truncation and not read may be missing`,
        details: { file: event.path, size: event.size, offset: event.offset },
      });
      return;
    case 'rotated':
      return;
    case 'rotated-away':
      context.health({
        code: `${prefix}/rotated-away`,
        message: `${event.path} is no longer the file read up to offset ${event.offset} (rotated or replaced while the sensor was stopped) and that file is not beside it any more; records after offset ${event.offset} of it may be missing`,
        details: { file: event.path, offset: event.offset },
      });
      return;
    case 'incomplete-line':
      context.health({
        code: `${prefix}/incomplete-line`,
        message: `${event.path} was rotated with an incomplete last line of ${event.bytes} bytes at offset ${event.offset}; that line is skipped`,
        details: { file: event.path, offset: event.offset, bytes: event.bytes },
      });
      return;
    case 'long-line':
      context.health({
        code: `${prefix}/long-line`,
        message: `${event.path}: line at offset ${event.offset} is longer than ${event.bytes} bytes; skipped`,
        details: { file: event.path, offset: event.offset, bytes: event.bytes },
      });
      return;
    default:
      assertNever(event);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled tail event ${JSON.stringify(value)}`);
}
