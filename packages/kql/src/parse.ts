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
import { aliasesIn, globalsFor, TIME_GENERATED } from './kusto-globals.ts';
import { mdeFunctions } from './mde-functions.ts';

export interface ParsedQuery {
  readonly text: string;
  readonly code: KustoCode;
  /** Whether the query says `TimeGenerated` (bound as a column of tables with a Timestamp). */
  readonly timeGenerated: boolean;
  /** The other spellings of columns the query uses (`TimeGenerated`, `AccountUPN`, …). */
  readonly aliases: readonly string[];
}

export interface ParseResult {
  readonly value?: ParsedQuery;
  readonly diagnostics: Diagnostic[];
}

const syntaxMessage = /^(Expected|Missing|The incomplete fragment|Unexpected|Unterminated|Invalid)/;
const UNKNOWN_NAME = 'KS142';
/** The binder wants count()'s argument to be a condition; the engine also counts a value's non-null rows. */
const BOOL_EXPECTED = 'A value of type bool expected.';

/** Parses and binds `text` against Palisade's tables. */
export function parseQuery(text: string): ParseResult {
  const aliases = aliasesIn(text);
  const timeGenerated = aliases.includes(TIME_GENERATED);
  const code = kustoLanguage().KustoCode.ParseAndAnalyze(text, globalsFor(aliases));
  const { columnNames: columnNameArguments, countValues } = argumentSpans(code.Syntax);
  const diagnostics: Diagnostic[] = [];
  for (const d of listOf(code.GetDiagnostics())) {
    if (d.Severity !== 'Error') continue;
    if (d.Code === UNKNOWN_NAME && columnNameArguments.some((s) => d.Start >= s.start && d.Start < s.end)) {
      continue;
    }
    if (d.Message === BOOL_EXPECTED && countValues.some((s) => d.Start >= s.start && d.Start < s.end))
      continue;
    diagnostics.push({
      severity: 'error',
      code: syntaxMessage.test(d.Message) ? 'kql/syntax' : 'kql/semantic',
      message: d.Message,
      span: spanAt(text, d.Start, d.Length),
    });
  }
  if (diagnostics.length > 0) return { diagnostics };
  return { value: { text, code, timeGenerated, aliases }, diagnostics };
}

interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * Spans of arguments that name a column (`invoke FileProfile(SHA1)`), which the binder cannot
 * resolve, and of values given to count() (`count(AccountName)`).
 */
function argumentSpans(root: SyntaxElement): { columnNames: Span[]; countValues: Span[] } {
  const spans: Span[] = [];
  const countValues: Span[] = [];
  const visit = (node: SyntaxElement): void => {
    if (kindOf(node) === 'FunctionCallExpression' && nameOf(child(node, 'Name')) === 'count') {
      for (const arg of items(child(child(node, 'ArgumentList') ?? node, 'Expressions')))
        countValues.push({ start: arg.TextStart, end: arg.TextStart + arg.Width });
    }
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
  return { columnNames: spans, countValues };
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
