// Renders a hunting result ({ Schema, Results }, MDE's shape) as an aligned table, CSV (RFC 4180)
// or the JSON document itself.
import type { HuntingAnswer } from '@palisade/server';
import type { HuntFormat } from './commands.ts';

/** The widest a table column gets; longer values end in `…`. */
const maxCellWidth = 60;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function fit(s: string, width: number): string {
  const flat = s.replace(/[\r\n\t]+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat.padEnd(width);
}

/** The result as text in `format`. */
export function renderHunt(answer: HuntingAnswer, format: HuntFormat): string {
  const names = answer.Schema.map((c) => c.Name);
  const rows = answer.Results.map((row) => names.map((n) => cellText(row[n])));
  switch (format) {
    case 'json':
      return `${JSON.stringify(answer, null, 2)}\n`;
    case 'csv':
      return [names, ...rows].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
    case 'table': {
      const widths = names.map((n, i) =>
        Math.min(maxCellWidth, Math.max(n.length, ...rows.map((r) => (r[i] as string).length))),
      );
      const line = (cells: readonly string[]) =>
        cells
          .map((c, i) => fit(c, widths[i] as number))
          .join('  ')
          .trimEnd();
      const rule = widths.map((w) => '-'.repeat(w)).join('  ');
      const count = `${rows.length} ${rows.length === 1 ? 'row' : 'rows'}`;
      return `${[line(names), rule, ...rows.map(line)].join('\n')}\n\n${count}\n`;
    }
  }
}
