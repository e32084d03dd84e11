// Palisade's schema as the language service's global state: one database holding every table of
// @palisade/schema with Kusto column types, plus Defender's extra functions. Built once per variant.
import { type ColumnType, type TableName, tableNames, tables } from '@palisade/schema';
import { type KustoGlobalState, type KustoSymbol, kustoLanguage } from './kusto-bridge.ts';
import { mdeFunctions } from './mde-functions.ts';

/** Sentinel's name for `Timestamp`, accepted in queries written for Log Analytics. */
export const TIME_GENERATED = 'TimeGenerated';

const scalarTypeNames: Readonly<Record<ColumnType, string>> = {
  string: 'String',
  int: 'Int',
  long: 'Long',
  real: 'Real',
  bool: 'Bool',
  datetime: 'DateTime',
  dynamic: 'Dynamic',
};

/** Whether the table has a `Timestamp` column (and so accepts `TimeGenerated`). */
export function hasTimestamp(table: TableName): boolean {
  return tables[table].columns.some((c) => c.name === 'Timestamp');
}

const cache = new Map<boolean, KustoGlobalState>();

/**
 * The global state for binding queries. With `timeGenerated`, every table with a `Timestamp`
 * also shows a `TimeGenerated` column (the compiler reads it from `Timestamp`).
 */
export function globalsFor(timeGenerated: boolean): KustoGlobalState {
  const known = cache.get(timeGenerated);
  if (known) return known;
  const k = kustoLanguage();
  const { ColumnSymbol, TableSymbol, DatabaseSymbol, FunctionSymbol, ScalarTypes } = k.Symbols;
  const typeOf = (type: ColumnType): KustoSymbol => {
    const symbol = ScalarTypes[scalarTypeNames[type]];
    if (!symbol) throw new Error(`the language service has no scalar type ${scalarTypeNames[type]}`);
    return symbol;
  };
  const members: KustoSymbol[] = tableNames.map((name) => {
    const columns = tables[name].columns.map((c) => new ColumnSymbol(c.name, typeOf(c.type)));
    if (timeGenerated && hasTimestamp(name))
      columns.push(new ColumnSymbol(TIME_GENERATED, typeOf('datetime')));
    return new TableSymbol.$ctor4(name, columns);
  });
  for (const f of mdeFunctions) members.push(new FunctionSymbol.$ctor16(f.name, f.parameters, f.body, null));
  const globals = k.GlobalState.Default.WithDatabase(new DatabaseSymbol.ctor('Palisade', members));
  cache.set(timeGenerated, globals);
  return globals;
}
