// `palisade evtx dump`: streams each file's records to stdout as XML, a JSON array or JSON
// lines; diagnostics go to stderr, and one unreadable file does not stop the others.
import { type EvtxDiagnostic, type EvtxEvent, formatDiagnostic, readEvtxChunks } from '@palisade/evtx';
import { type DumpFormat, ExitCode } from './commands.ts';
import type { Output } from './output.ts';

/** Dumps `files` in `format`; returns the exit code. */
export async function dumpEvtx(files: readonly string[], format: DumpFormat, out: Output): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let first = true;
  if (format === 'json') await out.write('[');
  for (const file of files) {
    const onDiagnostic = (d: EvtxDiagnostic) => {
      out.error(formatDiagnostic(d));
      if (d.severity === 'error') exitCode = ExitCode.inputErrors;
    };
    try {
      for await (const events of readEvtxChunks(file, { xml: format === 'xml', onDiagnostic })) {
        if (out.closed) return exitCode;
        let text = '';
        for (const event of events) {
          text += render(event, file, format, first);
          first = false;
        }
        await out.write(text);
      }
    } catch (e) {
      out.error(`${file}: error: cannot read: ${e instanceof Error ? e.message : String(e)}`);
      exitCode = ExitCode.inputErrors;
    }
  }
  if (format === 'json') await out.write(first ? ']\n' : '\n]\n');
  return exitCode;
}

function render(event: EvtxEvent, file: string, format: DumpFormat, first: boolean): string {
  switch (format) {
    case 'xml':
      return `${event.recovered ? '<!-- recovered record -->\n' : ''}${event.xml ?? ''}\n\n`;
    case 'json':
      return `${first ? '\n' : ',\n'}${JSON.stringify({ file, ...event }, null, 2)}`;
    case 'jsonl':
      return `${JSON.stringify({ file, ...event })}\n`;
    default:
      return assertNever(format);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled format ${String(value)}`);
}
