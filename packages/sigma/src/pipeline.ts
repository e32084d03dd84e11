// Log-source pipelines as data: which channels a Sigma service reads, which event ids (and
// other field values) a category means, and how field names map for each source. A rule's
// logsource resolves to one variant per matching source.
import { LineCounter, parseDocument } from 'yaml';
import type { SigmaDiagnostic } from './diagnostics.ts';
import type { LogSource } from './rule.ts';
import { windowsPipelineYaml } from './windows-pipeline.ts';

export interface PipelineEntry {
  readonly name: string;
  /** The logsource keys a rule must have, with these values, for the entry to apply. */
  readonly match: LogSource;
  /** Category entries: field values an event must have (EventID and others). */
  readonly conditions: Readonly<Record<string, readonly string[]>>;
  /** Category entries: the service whose channels the category is read from. */
  readonly service?: string;
  /** Service entries: the event log channels. */
  readonly channels: readonly string[];
  /** Rule field name → event field name. */
  readonly fieldMappings: Readonly<Record<string, string>>;
}

export interface Pipeline {
  readonly name: string;
  readonly entries: readonly PipelineEntry[];
}

/** Where and how a rule applies: events of these channels with these field values. */
export interface LogSourceVariant {
  readonly channels: readonly string[];
  readonly conditions: Readonly<Record<string, readonly string[]>>;
  readonly fieldMappings: Readonly<Record<string, string>>;
  /** Names of the pipeline entries used, for explanations. */
  readonly entries: readonly string[];
}

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);
const toStrings = (v: unknown): string[] | undefined =>
  v === undefined
    ? []
    : Array.isArray(v)
      ? v.map(String)
      : typeof v === 'string' || typeof v === 'number'
        ? [String(v)]
        : undefined;

/** Reads a pipeline file's YAML; each unusable entry is a diagnostic with its line. */
export function parsePipeline(
  text: string,
  file: string,
): { pipeline?: Pipeline; diagnostics: SigmaDiagnostic[] } {
  const diagnostics: SigmaDiagnostic[] = [];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    diagnostics.push({
      severity: 'error',
      code: 'sigma/yaml',
      message: e?.message.split('\n')[0] ?? 'invalid YAML',
      file,
      line: e?.linePos?.[0]?.line ?? 1,
    });
    return { diagnostics };
  }
  const value = doc.toJS() as unknown;
  if (!isPlain(value) || !Array.isArray(value.logsources)) {
    diagnostics.push({
      severity: 'error',
      code: 'sigma/bad-pipeline',
      message: `a pipeline needs a 'logsources' list`,
      file,
      line: 1,
    });
    return { diagnostics };
  }
  const entries: PipelineEntry[] = [];
  nextEntry: for (const [i, raw] of (value.logsources as unknown[]).entries()) {
    const node = doc.getIn(['logsources', i], true) as { range?: [number, number, number] } | undefined;
    const line = node?.range ? lines.linePos(node.range[0]).line : 1;
    const bad = (message: string) => {
      diagnostics.push({ severity: 'error', code: 'sigma/bad-pipeline', message, file, line });
    };
    if (!isPlain(raw) || typeof raw.name !== 'string') {
      bad(`logsource entry ${i + 1} needs a 'name'`);
      continue;
    }
    if (!isPlain(raw.match) || Object.keys(raw.match).length === 0) {
      bad(`logsource '${raw.name}' needs a non-empty 'match' map`);
      continue;
    }
    const match: { -readonly [K in keyof LogSource]: LogSource[K] } = {};
    for (const key of ['product', 'category', 'service'] as const) {
      const v = raw.match[key];
      if (typeof v === 'string') match[key] = v.toLowerCase();
    }
    const conditions: Record<string, string[]> = {};
    if (raw.conditions !== undefined) {
      if (!isPlain(raw.conditions)) {
        bad(`logsource '${raw.name}': 'conditions' must be a map`);
        continue;
      }
      for (const [field, v] of Object.entries(raw.conditions)) {
        const values = toStrings(v);
        if (!values) {
          bad(`logsource '${raw.name}': condition '${field}' must be a value or a list`);
          continue nextEntry;
        }
        conditions[field] = values;
      }
    }
    const channels = toStrings(raw.channels);
    if (!channels) {
      bad(`logsource '${raw.name}': 'channels' must be a list of channel names`);
      continue;
    }
    const fieldMappings: Record<string, string> = {};
    if (raw.fieldmappings !== undefined) {
      if (!isPlain(raw.fieldmappings)) {
        bad(`logsource '${raw.name}': 'fieldmappings' must be a map`);
        continue;
      }
      for (const [from, to] of Object.entries(raw.fieldmappings)) fieldMappings[from] = String(to);
    }
    if (channels.length === 0 && typeof raw.service !== 'string') {
      bad(`logsource '${raw.name}' needs 'channels' or a 'service' to read them from`);
      continue;
    }
    entries.push({
      name: raw.name,
      match,
      conditions,
      channels,
      fieldMappings,
      ...(typeof raw.service === 'string' ? { service: raw.service.toLowerCase() } : {}),
    });
  }
  return { pipeline: { name: typeof value.name === 'string' ? value.name : file, entries }, diagnostics };
}

/** Palisade's built-in Windows pipeline. */
export function windowsPipeline(): Pipeline {
  const { pipeline, diagnostics } = parsePipeline(windowsPipelineYaml, '<built-in windows pipeline>');
  if (!pipeline || diagnostics.length > 0)
    throw new Error(`built-in pipeline is invalid: ${diagnostics.map((d) => d.message).join('; ')}`);
  return pipeline;
}

/** Pipelines combined in order: a later entry replaces an earlier one of the same name. */
export function combinePipelines(...pipelines: readonly Pipeline[]): Pipeline {
  const byName = new Map<string, PipelineEntry>();
  for (const p of pipelines) for (const e of p.entries) byName.set(e.name, e);
  return { name: pipelines.map((p) => p.name).join('+'), entries: [...byName.values()] };
}

function applies(match: LogSource, ls: LogSource): boolean {
  return (['product', 'category', 'service'] as const).every(
    (k) => match[k] === undefined || match[k] === ls[k],
  );
}

/**
 * The sources a rule's logsource reads: a category entry names a service whose entry names
 * the channels; a service entry names channels directly. Empty when nothing applies.
 */
export function resolveLogSource(pipeline: Pipeline, ls: LogSource): LogSourceVariant[] {
  const variants: LogSourceVariant[] = [];
  const channelsOf = (service: string, product: string | undefined) =>
    pipeline.entries.filter(
      (e) => e.channels.length > 0 && applies(e.match, { service, ...(product ? { product } : {}) }),
    );
  if (ls.category !== undefined) {
    for (const entry of pipeline.entries) {
      if (entry.match.category === undefined || !applies(entry.match, ls)) continue;
      if (ls.service !== undefined && entry.service !== undefined && entry.service !== ls.service) continue;
      const targets =
        entry.channels.length > 0
          ? [entry]
          : channelsOf(entry.service ?? '', ls.product ?? entry.match.product ?? 'windows');
      for (const target of targets) {
        variants.push({
          channels: target.channels,
          conditions: entry.conditions,
          fieldMappings: { ...target.fieldMappings, ...entry.fieldMappings },
          entries: target === entry ? [entry.name] : [entry.name, target.name],
        });
      }
    }
    return variants;
  }
  if (ls.service !== undefined) {
    for (const entry of pipeline.entries) {
      if (entry.channels.length === 0 || entry.match.service === undefined || !applies(entry.match, ls))
        continue;
      variants.push({
        channels: entry.channels,
        conditions: entry.conditions,
        fieldMappings: entry.fieldMappings,
        entries: [entry.name],
      });
    }
  }
  return variants;
}
