// Loads Sigma rules from YAML text, files and folders. Every document that cannot be read
// becomes a diagnostic naming file, line and feature; loading goes on with the next one.
// A fast YAML reader does the loading; a position-keeping one is used only to find the line
// of a problem.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_SCHEMA, load, loadAll, YAMLException } from 'js-yaml';
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
import { type SigmaDiagnostic, SigmaError } from './diagnostics.ts';
import { type ParseOptions, parseSigmaDocument } from './parse-rule.ts';
import type { SigmaDocument } from './rule.ts';

export interface LoadResult {
  readonly documents: SigmaDocument[];
  readonly diagnostics: SigmaDiagnostic[];
  /** Documents read, loaded or not. */
  readonly attempted: number;
}

type Plain = { [key: string]: unknown };

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Sigma collections: `action: global` documents are merged into the ones after them,
// `action: reset` forgets them, `action: repeat` repeats the previous document with changes.
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlain(base) || !isPlain(over)) return over;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out;
}

function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}

// The first line of each document: after each `---` separator, and line 1 when the text does
// not begin with one.
function documentStartLines(text: string): number[] {
  const starts: number[] = [];
  const lines = text.split('\n');
  let sawContent = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^---(\s|$)/.test(line)) {
      starts.push(i + 2);
      sawContent = false;
    } else if (!sawContent && line.trim() !== '' && !line.trimStart().startsWith('#')) {
      if (starts.length === 0) starts.push(i + 1);
      sawContent = true;
    }
  }
  return starts.length === 0 ? [1] : starts;
}

/** The line of the node at `path` in document `index`, found with the position-keeping reader. */
function locate(text: string, index: number, path: readonly (string | number)[]): number | undefined {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
  // Both readers yield one value per document, empty ones included, so indexes agree.
  const doc = Array.isArray(docs) ? (docs as Document[])[index] : undefined;
  return doc ? lineOf(doc, lines, path) : undefined;
}

// When one document of a file is not valid YAML the fast reader gives up on the whole file;
// then each document, as the position-keeping reader splits them, is read on its own.
function loadEach(text: string, file: string, diagnostics: SigmaDiagnostic[]): unknown[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
  if (!Array.isArray(docs)) return [];
  return (docs as Document[]).map((doc) => {
    const [start, , end] = doc.range ?? [0, 0, text.length];
    const startLine = lines.linePos(start).line;
    const problem = doc.errors[0];
    if (problem) {
      const line = problem.linePos?.[0].line ?? startLine;
      diagnostics.push(yamlDiagnostic(problem.message.split('\n')[0] ?? '', file, line));
      return undefined;
    }
    try {
      return load(text.slice(start, end), { schema: CORE_SCHEMA, json: true, filename: file });
    } catch (e) {
      const line = e instanceof YAMLException ? startLine + e.mark.line : startLine;
      diagnostics.push(yamlDiagnostic(e instanceof YAMLException ? e.reason : String(e), file, line));
      return undefined;
    }
  });
}

function yamlDiagnostic(message: string, file: string, line: number): SigmaDiagnostic {
  return { severity: 'error', code: 'sigma/yaml', message: `invalid YAML: ${message}`, file, line };
}

/** Parses every document of one YAML text. */
export function loadSigmaText(text: string, file: string, options: ParseOptions = {}): LoadResult {
  const documents: SigmaDocument[] = [];
  const diagnostics: SigmaDiagnostic[] = [];
  let values: unknown[];
  let attempted = 0;
  try {
    // The core schema: no YAML 1.1 dates or yes/no booleans, as Sigma tools expect.
    values = loadAll(text, undefined, { schema: CORE_SCHEMA, json: true, filename: file });
  } catch {
    values = loadEach(text, file, diagnostics);
    // Each document that is not valid YAML was read, if not loaded.
    attempted = diagnostics.length;
  }
  const starts = documentStartLines(text);
  let global: unknown;
  let previous: unknown;
  for (let i = 0; i < values.length; i++) {
    let value = values[i];
    if (value === null || value === undefined) continue;
    const startLine = starts[i] ?? 1;
    if (isPlain(value) && typeof value.action === 'string') {
      const { action, ...rest } = value;
      if (action === 'global') {
        global = deepMerge(global ?? {}, rest);
        continue;
      }
      if (action === 'reset') {
        global = undefined;
        continue;
      }
      if (action === 'repeat') value = deepMerge(previous, rest);
    }
    if (global !== undefined) value = deepMerge(global, value);
    previous = value;
    attempted++;
    try {
      documents.push(parseSigmaDocument(value, { file, line: startLine }, options));
    } catch (e) {
      if (!(e instanceof SigmaError)) throw e;
      const rule = isPlain(value) && typeof value.title === 'string' ? value.title : undefined;
      const line = locate(text, i, e.path) ?? startLine;
      diagnostics.push({
        severity: 'error',
        code: e.code,
        message: e.message,
        file,
        line,
        ...(rule ? { rule } : {}),
      });
    }
  }
  return { documents, diagnostics, attempted };
}

/** Loads every `.yml`/`.yaml` file under the given files and folders, in sorted order. */
export function loadSigmaPaths(paths: readonly string[], options: ParseOptions = {}): LoadResult {
  const documents: SigmaDocument[] = [];
  const diagnostics: SigmaDiagnostic[] = [];
  let attempted = 0;
  const files: string[] = [];
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) {
        const child = join(path, name);
        if (statSync(child).isDirectory() || /\.ya?ml$/i.test(name)) visit(child);
      }
    } else files.push(path);
  };
  for (const path of paths) {
    try {
      visit(path);
    } catch (e) {
      diagnostics.push({
        severity: 'error',
        code: 'sigma/read',
        message: e instanceof Error ? e.message : String(e),
        file: path,
      });
    }
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      diagnostics.push({
        severity: 'error',
        code: 'sigma/read',
        message: e instanceof Error ? e.message : String(e),
        file,
      });
      continue;
    }
    const result = loadSigmaText(text, file, options);
    documents.push(...result.documents);
    diagnostics.push(...result.diagnostics);
    attempted += result.attempted;
  }
  return { documents, diagnostics, attempted };
}
