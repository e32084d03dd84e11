// The offline scan: reads EVTX and JSON event files, runs every compiled rule and the
// correlations over them, and returns alerts as a timeline with a summary. The server runs
// the same matchers live; this is the forensic path.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHUNK_SIZE,
  type EvtxDiagnostic,
  type EvtxEvent,
  FILE_HEADER_SIZE,
  formatDiagnostic,
  readEvtxChunks,
} from '@palisade/evtx';
import {
  isSambaAuditText,
  normaliseCapture,
  normaliseWindowsEvent,
  readSambaAuditLines,
  type TableRow,
} from '@palisade/schema';
import type { SigmaLevel } from '@palisade/sigma';
import { type Alert, type AlertEvent, levelOrder, sigmaAlert } from './alert.ts';
import type { RuleSet } from './compile.ts';
import { CorrelationEngine } from './correlation.ts';
import { type EventFields, evtxEventFields } from './event-fields.ts';
import type { IdentityDetector } from './identity/detector.ts';
import { IdentityEngine, type IdentityEngineConfig } from './identity/engine.ts';
import { eventFromJson } from './json-events.ts';
import { networkEvent } from './live.ts';

export interface ScanProgress {
  readonly file: string;
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly events: number;
}

/** A problem with an input file; the scan goes on. */
export interface ScanFileProblem {
  readonly file: string;
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
}

/** The identity detectors to run in a scan, and their configuration. */
export interface IdentityScanOptions {
  readonly detectors: readonly IdentityDetector[];
  readonly config: IdentityEngineConfig;
}

export interface ScanOptions {
  /** Alerts below this level are not reported (they still feed correlations). */
  readonly minLevel?: SigmaLevel;
  /** Identity detections over the Identity rows the events normalise to; none when absent. */
  readonly identity?: IdentityScanOptions;
  readonly onProgress?: (progress: ScanProgress) => void;
  readonly onProblem?: (problem: ScanFileProblem) => void;
}

export interface ScanSummary {
  readonly files: number;
  readonly events: number;
  readonly alerts: number;
  readonly alertsByLevel: Readonly<Record<SigmaLevel, number>>;
  /** Rules by number of alerts, most first (ties by title). */
  readonly topRules: readonly {
    readonly title: string;
    readonly level: SigmaLevel;
    readonly count: number;
  }[];
  /** Files that could not be read entirely, with their error count. */
  readonly filesWithErrors: readonly { readonly file: string; readonly errors: number }[];
}

export interface ScanResult {
  readonly alerts: Alert[];
  readonly summary: ScanSummary;
}

const eventFileExtensions = /\.(evtx|json|jsonl|ndjson|pcap|pcapng)$/i;

/** Every event file under the given paths (folders recursively), sorted; unreadable paths are reported. */
export function findEventFiles(paths: readonly string[], onProblem?: (p: ScanFileProblem) => void): string[] {
  const files: string[] = [];
  const visit = (path: string, explicit: boolean) => {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch (e) {
      onProblem?.({
        file: path,
        severity: 'error',
        message: `cannot read: ${errorText(e)}`,
      });
      return;
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name), false);
    } else if (explicit || eventFileExtensions.test(path)) files.push(path);
  };
  for (const p of paths) visit(p, true);
  return files;
}

/**
 * The JSON values in a text, one after another: a single value, an array of events, JSON
 * lines, or pretty-printed objects back to back. Yields each value's text and first line.
 */
export function* splitJsonValues(text: string): Generator<{ text: string; line: number }> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      // An object still open where the next line starts a new one at column 0 was cut short
      // (a truncated JSON line): end it here, so that the values after it are still read.
      if (start >= 0 && text.charCodeAt(start) === 123 && text.charCodeAt(i + 1) === 123) {
        yield { text: text.slice(start, i), line: startLine };
        start = -1;
        depth = 0;
        inString = false;
        escaped = false;
        continue;
      }
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 92) escaped = true;
      else if (c === 34) inString = false;
      continue;
    }
    if (start < 0) {
      if (c === 32 || c === 9 || c === 10 || c === 13) continue;
      start = i;
      startLine = line;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
    // A value ends where its brackets close, or at the end of a line for a bare scalar.
    if (depth === 0 && (c === 125 || c === 93 || text.charCodeAt(i + 1) === 10 || i + 1 === text.length)) {
      yield { text: text.slice(start, i + 1), line: startLine };
      start = -1;
    }
  }
  if (start >= 0) yield { text: text.slice(start), line: startLine };
}

/** Events of one JSON file (any layout `splitJsonValues` accepts); each bad value is reported with its line. */
export function* readJsonEvents(
  text: string,
  file: string,
  onProblem: (p: ScanFileProblem) => void,
): Generator<EvtxEvent> {
  let index = 0;
  for (const { text: valueText, line } of splitJsonValues(text)) {
    let value: unknown;
    try {
      value = JSON.parse(valueText);
    } catch (e) {
      onProblem({
        file,
        severity: 'error',
        message: `line ${line}: invalid JSON: ${errorText(e)}`,
      });
      continue;
    }
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      const r = eventFromJson(item, index++);
      if ('error' in r) onProblem({ file, severity: 'error', message: `line ${line}: ${r.error}` });
      else yield r.event;
    }
  }
}

interface PendingCorrelationInput {
  readonly time: number;
  readonly rule: number;
  readonly fields: EventFields;
  readonly event: AlertEvent;
}

/** Scans files with a compiled rule set. */
export async function scanFiles(
  paths: readonly string[],
  ruleSet: RuleSet,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const errorsByFile = new Map<string, number>();
  const problem = (p: ScanFileProblem) => {
    if (p.severity === 'error') errorsByFile.set(p.file, (errorsByFile.get(p.file) ?? 0) + 1);
    options.onProblem?.(p);
  };
  const files = findEventFiles(paths, problem);
  const sizes = files.map((f) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  });
  const bytesTotal = sizes.reduce((a, b) => a + b, 0);
  const engine = new CorrelationEngine(ruleSet.correlations);
  const minLevel = levelOrder[options.minLevel ?? 'informational'];
  const alerts: Alert[] = [];
  const pending: PendingCorrelationInput[] = [];
  const correlated = ruleSet.rules.map((r) => engine.uses(r));
  const silent = ruleSet.rules.map((r) => engine.suppressed(r) || levelOrder[r.level] < minLevel);
  let events = 0;
  let bytesDone = 0;

  const identityRows: { readonly time: number; readonly row: TableRow; readonly event: AlertEvent }[] = [];
  const keepIdentityRows = (rows: readonly TableRow[], event: AlertEvent) => {
    for (const row of rows) {
      if (!row.table.startsWith('Identity')) continue;
      const time = Date.parse(
        typeof row.values.Timestamp === 'string' ? row.values.Timestamp : event.timestamp,
      );
      if (!Number.isNaN(time)) identityRows.push({ time, row, event });
    }
  };

  const handle = (event: EvtxEvent, file: string) => {
    events++;
    const ref: AlertEvent = {
      file,
      recordId: event.system.eventRecordId ?? event.recordId,
      timestamp: event.timestamp,
      channel: event.system.channel,
      eventId: event.system.eventId,
      computer: event.system.computer,
    };
    if (options.identity) keepIdentityRows(normaliseWindowsEvent(event, file, { raw: false }), ref);
    const fields = evtxEventFields(event);
    const matched = ruleSet.match(fields);
    if (matched.length === 0) return;
    for (const index of matched) {
      const rule = ruleSet.rules[index];
      if (!rule) continue;
      if (correlated[index])
        pending.push({ time: Date.parse(event.timestamp), rule: index, fields, event: ref });
      if (silent[index]) continue;
      alerts.push(sigmaAlert(rule, event.timestamp, ref));
    }
  };

  // Samba AD audit logs: one JSON record per line, normalised straight to Identity rows.
  const readSamba = (text: string, file: string): number => {
    const { rows, problems, records } = readSambaAuditLines(text, file);
    for (const p of problems) problem({ file, severity: 'error', message: `line ${p.line}: ${p.message}` });
    for (const row of rows) {
      if (!options.identity || !row.table.startsWith('Identity')) continue;
      const extra = row.values.AdditionalFields;
      const eventId =
        typeof extra === 'object' &&
        extra !== null &&
        !Array.isArray(extra) &&
        typeof extra.EventId === 'number'
          ? extra.EventId
          : 0;
      const timestamp = typeof row.values.Timestamp === 'string' ? row.values.Timestamp : '';
      const computer = row.values.DestinationDeviceName ?? row.values.DeviceName;
      keepIdentityRows([row], {
        file,
        timestamp,
        channel: 'Samba audit',
        eventId,
        computer: typeof computer === 'string' ? computer : '',
      });
    }
    return records;
  };

  for (let i = 0; i < files.length; i++) {
    const file = files[i] as string;
    const size = sizes[i] as number;
    const report = (within: number) =>
      options.onProgress?.({
        file,
        filesDone: i,
        filesTotal: files.length,
        bytesDone: bytesDone + Math.min(size, within),
        bytesTotal,
        events,
      });
    report(0);
    if (/\.(pcap|pcapng)$/i.test(file)) {
      // Packet captures of a DC's traffic give Identity rows for the identity detectors.
      try {
        const { rows, diagnostics } = normaliseCapture(readFileSync(file));
        for (const message of diagnostics) problem({ file, severity: 'warning', message });
        events += rows.length;
        if (options.identity) for (const row of rows) keepIdentityRows([row], networkEvent(row, file));
      } catch (e) {
        problem({ file, severity: 'error', message: `cannot read: ${errorText(e)}` });
      }
    } else if (/\.evtx$/i.test(file) || !/\.(json|jsonl|ndjson)$/i.test(file)) {
      const onDiagnostic = (d: EvtxDiagnostic) =>
        problem({ file, severity: d.severity, message: formatDiagnostic(d) });
      try {
        let read = FILE_HEADER_SIZE;
        for await (const chunk of readEvtxChunks(file, { onDiagnostic })) {
          for (const event of chunk) handle(event, file);
          // Chunks without events are not yielded, so this is an estimate that only grows.
          read += CHUNK_SIZE;
          report(read);
        }
      } catch (e) {
        problem({ file, severity: 'error', message: `cannot read: ${errorText(e)}` });
      }
    } else {
      let text: string | undefined;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        problem({ file, severity: 'error', message: `cannot read: ${errorText(e)}` });
      }
      if (text !== undefined && isSambaAuditText(text)) events += readSamba(text, file);
      else if (text !== undefined)
        for (const event of readJsonEvents(text, file, problem)) handle(event, file);
    }
    bytesDone += size;
  }
  options.onProgress?.({
    file: '',
    filesDone: files.length,
    filesTotal: files.length,
    bytesDone: bytesTotal,
    bytesTotal,
    events,
  });

  // Identity detectors, like correlations, see rows in event-time order across files.
  if (options.identity) {
    identityRows.sort((a, b) => a.time - b.time);
    const engine = new IdentityEngine(options.identity.detectors, options.identity.config);
    for (const { row, event } of identityRows) {
      for (const alert of engine.push(row, event))
        if (levelOrder[alert.level] >= minLevel) alerts.push(alert);
    }
    for (const alert of engine.flush()) if (levelOrder[alert.level] >= minLevel) alerts.push(alert);
  }

  // Correlations see matches in event-time order, whatever order the files came in.
  pending.sort((a, b) => a.time - b.time || a.rule - b.rule);
  for (const p of pending) {
    const rule = ruleSet.rules[p.rule];
    if (rule)
      alerts.push(...engine.push(rule, p.fields, p.event).filter((a) => levelOrder[a.level] >= minLevel));
  }
  alerts.push(...engine.flush().filter((a) => levelOrder[a.level] >= minLevel));

  alerts.sort(compareAlerts);
  return { alerts, summary: summarise(files.length, events, alerts, errorsByFile) };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Timeline order: time, then level (most severe first), title, file and record. */
export function compareAlerts(a: Alert, b: Alert): number {
  const first = a.events[0];
  const second = b.events[0];
  return (
    (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0) ||
    levelOrder[b.level] - levelOrder[a.level] ||
    (a.title < b.title ? -1 : a.title > b.title ? 1 : 0) ||
    ((first?.file ?? '') < (second?.file ?? '') ? -1 : (first?.file ?? '') > (second?.file ?? '') ? 1 : 0) ||
    (first?.recordId ?? 0) - (second?.recordId ?? 0)
  );
}

function summarise(
  files: number,
  events: number,
  alerts: readonly Alert[],
  errorsByFile: Map<string, number>,
): ScanSummary {
  const alertsByLevel: Record<SigmaLevel, number> = {
    informational: 0,
    low: 0,
    medium: 0,
    high: 0,
    critical: 0,
  };
  const perRule = new Map<string, { title: string; level: SigmaLevel; count: number }>();
  for (const a of alerts) {
    alertsByLevel[a.level]++;
    const key = `${a.ruleId ?? ''}\u0000${a.title}`;
    const entry = perRule.get(key);
    if (entry) entry.count++;
    else perRule.set(key, { title: a.title, level: a.level, count: 1 });
  }
  const topRules = [...perRule.values()].sort((a, b) => b.count - a.count || (a.title < b.title ? -1 : 1));
  const filesWithErrors = [...errorsByFile]
    .map(([file, errors]) => ({ file, errors }))
    .sort((a, b) => (a.file < b.file ? -1 : 1));
  return { files, events, alerts: alerts.length, alertsByLevel, topRules, filesWithErrors };
}
