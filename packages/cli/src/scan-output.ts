// Renders scan results: an aligned table with a summary, CSV (RFC 4180), JSON or JSON lines,
// and a progress bar for terminals.
import type { Alert, ScanProgress, ScanSummary } from '@palisade/detect';
import type { ScanFormat } from './commands.ts';

const columns = [
  'Timestamp',
  'Level',
  'Rule',
  'Computer',
  'Channel',
  'EventID',
  'RecordID',
  'Details',
  'File',
] as const;

// What an alert is about beyond its rule: an identity alert's sentence, a correlation's group.
function details(a: Alert): string {
  if (a.description) return a.description;
  if (a.group)
    return Object.entries(a.group)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  return '';
}

function row(a: Alert): string[] {
  const e = a.events[a.events.length - 1];
  const rule = a.kind === 'correlation' ? `${a.title} (${a.events.length} events)` : a.title;
  return [
    a.timestamp,
    a.level,
    rule,
    e?.computer ?? '',
    e?.channel ?? '',
    e ? String(e.eventId) : '',
    e?.recordId !== undefined ? String(e.recordId) : '',
    details(a),
    e?.file ?? '',
  ];
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The results as text in `format`; `summaryInline` says whether the summary is part of it. */
export function renderScan(
  alerts: readonly Alert[],
  summary: ScanSummary,
  format: ScanFormat,
): { text: string; summaryInline: boolean } {
  switch (format) {
    case 'table': {
      const rows = alerts.map(row);
      const widths = columns.map((c, i) =>
        Math.min(60, Math.max(c.length, ...rows.map((r) => (r[i] as string).length))),
      );
      const line = (cells: readonly string[]) =>
        cells
          .map((c, i) => {
            const w = widths[i] as number;
            const cell = c.length > w ? `${c.slice(0, w - 1)}…` : c;
            return i === cells.length - 1 ? cell : cell.padEnd(w);
          })
          .join('  ');
      const body =
        rows.length === 0
          ? 'No alerts.\n'
          : `${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
      return { text: `${body}\n${renderSummary(summary)}`, summaryInline: true };
    }
    case 'csv':
      return {
        text: [columns.join(','), ...alerts.map((a) => row(a).map(csvField).join(','))]
          .join('\r\n')
          .concat('\r\n'),
        summaryInline: false,
      };
    case 'json':
      return { text: `${JSON.stringify({ alerts, summary }, null, 2)}\n`, summaryInline: true };
    case 'jsonl':
      return { text: alerts.map((a) => `${JSON.stringify(a)}\n`).join(''), summaryInline: false };
    default:
      return assertNever(format);
  }
}

/** The summary as text: alerts per level, the top rules, files with errors. */
export function renderSummary(s: ScanSummary): string {
  const lines = [
    `Scanned ${s.events} events in ${s.files} file${s.files === 1 ? '' : 's'}: ${s.alerts} alert${s.alerts === 1 ? '' : 's'}.`,
    `Alerts by level: critical ${s.alertsByLevel.critical}, high ${s.alertsByLevel.high}, medium ${s.alertsByLevel.medium}, low ${s.alertsByLevel.low}, informational ${s.alertsByLevel.informational}`,
  ];
  if (s.topRules.length > 0) {
    lines.push('Top rules:');
    for (const r of s.topRules.slice(0, 10))
      lines.push(`  ${String(r.count).padStart(6)}  ${r.level.padEnd(13)} ${r.title}`);
  }
  if (s.filesWithErrors.length > 0) {
    lines.push('Files with errors:');
    for (const f of s.filesWithErrors)
      lines.push(`  ${f.file} (${f.errors} error${f.errors === 1 ? '' : 's'})`);
  }
  return `${lines.join('\n')}\n`;
}

/** One line of progress bar, for a terminal 80 columns wide or more. */
export function renderProgress(p: ScanProgress): string {
  const fraction =
    p.bytesTotal > 0
      ? Math.min(1, p.bytesDone / p.bytesTotal)
      : p.filesTotal > 0
        ? p.filesDone / p.filesTotal
        : 1;
  const width = 30;
  const filled = Math.round(fraction * width);
  return `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${p.filesDone}/${p.filesTotal} files  ${p.events} events`;
}

function assertNever(value: never): never {
  throw new Error(`unhandled format ${String(value)}`);
}
