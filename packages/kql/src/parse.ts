// The front end: Microsoft's parser and binder over Palisade's schema. Errors come back as
// diagnostics with line and column; the bound tree goes on to the lowering.
import { type Diagnostic, spanAt } from './diagnostic.ts';
import {
  child,
  items,
  type KustoCode,
  kindOf,
  kustoLanguage,
  listOf,
  nameOf,
  type SyntaxElement,
} from './kusto-bridge.ts';
import { globalsFor, TIME_GENERATED } from './kusto-globals.ts';
import { mdeFunctions } from './mde-functions.ts';

export interface ParsedQuery {
  readonly text: string;
  readonly code: KustoCode;
  /** Whether the query says `TimeGenerated` (bound as a column of tables with a Timestamp). */
  readonly timeGenerated: boolean;
}

export interface ParseResult {
  readonly value?: ParsedQuery;
  readonly diagnostics: Diagnostic[];
}

const syntaxMessage = /^(Expected|Missing|The incomplete fragment|Unexpected|Unterminated|Invalid)/;
const UNKNOWN_NAME = 'KS142';

/** Parses and binds `text` against Palisade's tables. */
export function parseQuery(text: string): ParseResult {
  const timeGenerated = new RegExp(`\\b${TIME_GENERATED}\\b`).test(text);
  const code = kustoLanguage().KustoCode.ParseAndAnalyze(text, globalsFor(timeGenerated));
  const columnNameArguments = columnNameArgumentSpans(code.Syntax);
  const diagnostics: Diagnostic[] = [];
  for (const d of listOf(code.GetDiagnostics())) {
    if (d.Severity !== 'Error') continue;
    if (d.Code === UNKNOWN_NAME && columnNameArguments.some((s) => d.Start >= s.start && d.Start < s.end)) {
      continue;
    }
    diagnostics.push({
      severity: 'error',
      code: syntaxMessage.test(d.Message) ? 'kql/syntax' : 'kql/semantic',
      message: d.Message,
      span: spanAt(text, d.Start, d.Length),
    });
  }
  if (diagnostics.length > 0) return { diagnostics };
  return { value: { text, code, timeGenerated }, diagnostics };
}

/** Spans of arguments that name a column (`invoke FileProfile(SHA1)`), which the binder cannot resolve. */
function columnNameArgumentSpans(root: SyntaxElement): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  const visit = (node: SyntaxElement): void => {
    if (kindOf(node) === 'InvokeOperator') {
      const call = child(node, 'Function');
      const f = call && mdeFunctions.find((m) => m.name === nameOf(child(call, 'Name')));
      const args = call ? items(child(child(call, 'ArgumentList') ?? call, 'Expressions')) : [];
      for (const index of f?.columnNameParameters ?? []) {
        const arg = args[index];
        if (arg) spans.push({ start: arg.TextStart, end: arg.TextStart + arg.Width });
      }
    }
    for (let i = 0; i < node.ChildCount; i++) {
      const c = node.GetChild(i);
      if (c && !c.IsToken) visit(c);
    }
  };
  visit(root);
  return spans;
}

/**
 * Loads the language service and binds a typical query once, so the first real query does not
 * pay the start-up (about half a second). Call it when the server starts.
 */
export function warmUp(): void {
  parseQuery(
    'let t = ago(1d); DeviceProcessEvents | where Timestamp > t and FileName has "x" | summarize count() by bin(Timestamp, 1h), DeviceName | join kind=inner (DeviceInfo | project DeviceName, OSPlatform) on DeviceName | top 10 by count_',
  );
}
