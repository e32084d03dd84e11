// The adapter's only contact with Microsoft's language service: loads its script bundle once and
// describes, as narrow types, the few parts of its syntax tree and symbols that the lowering reads.
import { createRequire } from 'node:module';

/** A list in the service's object model (IReadOnlyList). */
export interface KustoList<T> {
  readonly Count: number;
  getItem(index: number): T;
}

export interface KustoSymbol {
  readonly Kind: number;
  readonly Name: string;
}

export interface KustoColumnSymbol extends KustoSymbol {
  readonly Type: KustoSymbol;
}

/** A type symbol; tables and tuples have columns. */
export interface KustoTypeSymbol extends KustoSymbol {
  readonly Columns?: KustoList<KustoColumnSymbol>;
}

/** A node or token of the syntax tree. */
export interface SyntaxElement {
  readonly Kind: number;
  readonly IsToken: boolean;
  /** Offset of the first character, after leading trivia. */
  readonly TextStart: number;
  readonly Width: number;
  readonly ChildCount: number;
  GetChild(index: number): SyntaxElement | null;
  GetName(index: number): string;
  ToString(): string;
  /** Tokens: the token's text. */
  readonly Text?: string;
  readonly ResultType?: KustoTypeSymbol | null;
  readonly ReferencedSymbol?: KustoSymbol | null;
  readonly LiteralValue?: unknown;
  GetExpansion?(): SyntaxElement | null;
}

export interface KustoDiagnostic {
  readonly Code: string;
  readonly Message: string;
  readonly Severity: string;
  readonly Start: number;
  readonly Length: number;
}

export interface KustoCode {
  readonly Syntax: SyntaxElement;
  readonly ResultType: KustoTypeSymbol | null;
  GetDiagnostics(): KustoList<KustoDiagnostic>;
}

export interface KustoGlobalState {
  WithDatabase(database: unknown): KustoGlobalState;
}

interface Constructor<A extends unknown[], T> {
  new (...args: A): T;
}

/** The parts of the `Kusto.Language` namespace used here. */
export interface KustoLanguage {
  readonly KustoCode: {
    ParseAndAnalyze(text: string, globals: KustoGlobalState): KustoCode;
  };
  readonly GlobalState: { readonly Default: KustoGlobalState };
  readonly Syntax: { readonly SyntaxKind: Record<string, number | unknown> };
  readonly Symbols: {
    readonly SymbolKind: Record<string, number | unknown>;
    readonly ScalarTypes: Record<string, KustoSymbol>;
    readonly ColumnSymbol: Constructor<[string, KustoSymbol], KustoColumnSymbol>;
    readonly TableSymbol: { readonly $ctor4: Constructor<[string, KustoColumnSymbol[]], KustoSymbol> };
    readonly DatabaseSymbol: { readonly ctor: Constructor<[string, KustoSymbol[]], KustoSymbol> };
    readonly FunctionSymbol: {
      readonly $ctor16: Constructor<[string, string, string, string | null], KustoSymbol>;
    };
  };
}

let loaded: KustoLanguage | undefined;

/** The language service, loaded on first use (about 0.1 s; it defines the `Bridge`, `System` and `Kusto` globals). */
export function kustoLanguage(): KustoLanguage {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    require('@kusto/language-service-next/bridge.min.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
    const kusto = (globalThis as { Kusto?: { Language?: KustoLanguage } }).Kusto;
    if (!kusto?.Language) throw new Error('@kusto/language-service-next did not define Kusto.Language');
    loaded = kusto.Language;
  }
  return loaded;
}

let syntaxKindNames: Map<number, string> | undefined;
let symbolKindNames: Map<number, string> | undefined;

function namesOf(values: Record<string, unknown>): Map<number, string> {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(values)) if (typeof value === 'number') names.set(value, name);
  return names;
}

/** The SyntaxKind name of a node or token (`FilterOperator`, `HasExpression`, …). */
export function kindOf(element: SyntaxElement): string {
  syntaxKindNames ??= namesOf(kustoLanguage().Syntax.SyntaxKind);
  return syntaxKindNames.get(element.Kind) ?? 'Unknown';
}

/** The SymbolKind name of a symbol (`Column`, `Table`, `Variable`, `Function`, …). */
export function symbolKindOf(symbol: KustoSymbol): string {
  symbolKindNames ??= namesOf(kustoLanguage().Symbols.SymbolKind);
  return symbolKindNames.get(symbol.Kind) ?? 'Unknown';
}

function isElement(value: unknown): value is SyntaxElement {
  return typeof value === 'object' && value !== null && 'Kind' in value && 'ChildCount' in value;
}

/** The child named `name` (the service's property name, e.g. `Expression`, `ByClause`), if present. */
export function child(node: SyntaxElement, name: string): SyntaxElement | undefined {
  const value = (node as unknown as Record<string, unknown>)[name];
  return isElement(value) ? value : undefined;
}

/** The elements of a list child, with separators (commas) removed. */
export function items(node: SyntaxElement | undefined): SyntaxElement[] {
  if (!node) return [];
  const out: SyntaxElement[] = [];
  for (let i = 0; i < node.ChildCount; i++) {
    const c = node.GetChild(i);
    if (!c) continue;
    if (kindOf(c) === 'SeparatedElement') {
      const element = c.GetChild(0);
      if (element) out.push(element);
    } else out.push(c);
  }
  return out;
}

/** The elements of a service list as an array. */
export function listOf<T>(list: KustoList<T> | null | undefined): T[] {
  const out: T[] = [];
  if (!list) return out;
  for (let i = 0; i < list.Count; i++) out.push(list.getItem(i));
  return out;
}

/** The text of a node without its leading trivia (comments, whitespace). */
export function textOf(node: SyntaxElement): string {
  return node.ToString().trim();
}

/** The identifier a NameDeclaration, NameReference or name token spells (brackets and quotes removed). */
export function nameOf(node: SyntaxElement | undefined): string {
  if (!node) return '';
  const symbol = node.ReferencedSymbol;
  if (symbol && typeof symbol.Name === 'string' && symbol.Name !== '') return symbol.Name;
  const simple = (node as unknown as { SimpleName?: unknown }).SimpleName;
  if (typeof simple === 'string') return simple;
  const name = child(node, 'Name');
  if (name) return nameOf(name);
  return textOf(node).replace(/^\[\s*(['"])(.*)\1\s*\]$/s, '$2');
}
