// Palisade's schema as the language service's global state: one database holding every table of
// @palisade/schema with Kusto column types, plus Defender's extra functions, and the other
// spellings of columns that a query uses. Built once per set of spellings.
import { type ColumnType, type TableName, tableNames, tables } from '@palisade/schema';
import { type KustoGlobalState, type KustoSymbol, kustoLanguage } from './kusto-bridge.ts';
import { mdeFunctions } from './mde-functions.ts';

/** Sentinel's name for `Timestamp`, accepted in queries written for Log Analytics. */
export const TIME_GENERATED = 'TimeGenerated';

/**
 * Other names of columns, used by queries written for Sentinel or an older schema: every table
 * with `column` (and no column named `alias`) also shows `alias`, which reads `column`. Only the
 * aliases a query spells are added, so `*` and `project-away` see the table as it is.
 */
export const columnAliases: readonly { readonly alias: string; readonly column: string }[] = [
  { alias: TIME_GENERATED, column: 'Timestamp' },
  // Sentinel's IdentityInfo spells these AccountUPN and AccountSID.
  { alias: 'AccountUPN', column: 'AccountUpn' },
  { alias: 'AccountSID', column: 'AccountSid' },
];

const scalarTypeNames: Readonly<Record<ColumnType, string>> = {
  string: 'String',
  int: 'Int',
  long: 'Long',
  real: 'Real',
  bool: 'Bool',
  datetime: 'DateTime',
  dynamic: 'Dynamic',
};

/** The aliases `text` spells, as whole words. */
export function aliasesIn(text: string): string[] {
  return columnAliases.filter((a) => new RegExp(`\\b${a.alias}\\b`).test(text)).map((a) => a.alias);
}

/** The columns of a table as a query using `aliases` sees them: name, type, and the stored column each reads. */
export function columnsWithAliases(
  table: TableName,
  aliases: readonly string[],
): { name: string; type: ColumnType; source: string }[] {
  const columns = tables[table].columns.map((c) => ({ name: c.name, type: c.type, source: c.name }));
  for (const a of columnAliases) {
    if (!aliases.includes(a.alias) || columns.some((c) => c.name === a.alias)) continue;
    const target = columns.find((c) => c.name === a.column);
    if (target) columns.push({ name: a.alias, type: target.type, source: a.column });
  }
  return columns;
}

const cache = new Map<string, KustoGlobalState>();

/** The global state for binding a query that spells `aliases`. */
export function globalsFor(aliases: readonly string[]): KustoGlobalState {
  const key = [...aliases].sort().join(',');
  const known = cache.get(key);
  if (known) return known;
  const k = kustoLanguage();
  const { ColumnSymbol, TableSymbol, DatabaseSymbol, FunctionSymbol, ScalarTypes } = k.Symbols;
  const typeOf = (type: ColumnType): KustoSymbol => {
    const symbol = ScalarTypes[scalarTypeNames[type]];
    if (!symbol) throw new Error(`the language service has no scalar type ${scalarTypeNames[type]}`);
    return symbol;
  };
  const members: KustoSymbol[] = tableNames.map(
    (name) =>
      new TableSymbol.$ctor4(
        name,
        columnsWithAliases(name, aliases).map((c) => new ColumnSymbol(c.name, typeOf(c.type))),
      ),
  );
  for (const f of mdeFunctions) members.push(new FunctionSymbol.$ctor16(f.name, f.parameters, f.body, null));
  const globals = k.GlobalState.Default.WithDatabase(new DatabaseSymbol.ctor('Palisade', members));
  cache.set(key, globals);
  return globals;
}
