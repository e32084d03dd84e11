// The typed intermediate form between the bound KQL tree and SQL: tabular steps with the columns
// the binder gave them, and scalar expressions with Kusto types. Tagged unions on `kind`.

export const kustoTypes = [
  'bool',
  'int',
  'long',
  'real',
  'decimal',
  'string',
  'datetime',
  'timespan',
  'dynamic',
  'guid',
] as const;
export type KustoType = (typeof kustoTypes)[number];

export interface Column {
  readonly name: string;
  readonly type: KustoType;
}

/** Where in the query text a node came from (offset and length), for diagnostics. */
export interface At {
  readonly start: number;
  readonly length: number;
}

/**
 * A literal value: text, numbers (bigint for `long`), booleans, null; datetimes and timespans as
 * microseconds (since the epoch, and long) in a bigint; dynamic values as JSON text.
 */
export type LiteralValue = string | number | bigint | boolean | null;

export type Scalar =
  | { readonly kind: 'column'; readonly name: string; readonly type: KustoType }
  | { readonly kind: 'literal'; readonly value: LiteralValue; readonly type: KustoType }
  /** Kusto functions and operators by their Kusto name (`tolower`, `==`, `!has`, `in~`, `and`). */
  | {
      readonly kind: 'call';
      readonly name: string;
      readonly args: readonly Scalar[];
      readonly type: KustoType;
      readonly at: At;
    }
  /** Dynamic access: `x.a`, `x['a']`, `x[0]`. */
  | {
      readonly kind: 'path';
      readonly target: Scalar;
      readonly steps: readonly PathStep[];
      readonly type: KustoType;
    }
  | {
      readonly kind: 'case';
      readonly branches: readonly { readonly when: Scalar; readonly value: Scalar }[];
      readonly otherwise: Scalar;
      readonly type: KustoType;
    }
  /** `x in (tabular)`: membership in the first column of a query. */
  | {
      readonly kind: 'in-query';
      readonly name: string;
      readonly value: Scalar;
      readonly query: Query;
      readonly type: KustoType;
    }
  /** `toscalar(tabular)`: the first column of the first row. */
  | { readonly kind: 'subquery'; readonly query: Query; readonly type: KustoType };

export type PathStep =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'expr'; readonly expr: Scalar };

export interface NamedScalar {
  readonly name: string;
  readonly expr: Scalar;
}

/** One output of `summarize`: an aggregate, or the columns of one `arg_max`/`arg_min` row. */
export type SummaryValue =
  | {
      readonly kind: 'aggregate';
      readonly name: string;
      readonly type: KustoType;
      readonly fn: string;
      readonly args: readonly Scalar[];
      readonly at: At;
    }
  | {
      readonly kind: 'arg';
      readonly fn: 'arg_max' | 'arg_min';
      readonly by: Scalar;
      readonly outputs: readonly (Column & { readonly expr: Scalar })[];
    };

export interface SortKey {
  readonly expr: Scalar;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export const joinKinds = [
  'innerunique',
  'inner',
  'leftouter',
  'rightouter',
  'fullouter',
  'leftsemi',
  'leftanti',
  'rightsemi',
  'rightanti',
] as const;
export type JoinKind = (typeof joinKinds)[number];

export interface JoinOutput extends Column {
  readonly side: 'left' | 'right';
  /** The column of that side the output reads. */
  readonly source: string;
}

export interface ExpandItem extends Column {
  /** The dynamic value whose elements become rows. */
  readonly expr: Scalar;
}

/** A tabular step; `columns` are its output, in order, as the binder named and typed them. */
export type Query =
  | {
      readonly kind: 'table';
      readonly table: string;
      /** For each output column, the stored column it reads (`TimeGenerated` reads `Timestamp`). */
      readonly sources: readonly string[];
      readonly columns: readonly Column[];
    }
  | { readonly kind: 'ref'; readonly name: string; readonly columns: readonly Column[] }
  | {
      readonly kind: 'filter';
      readonly input: Query;
      readonly predicate: Scalar;
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'select';
      readonly input: Query;
      readonly items: readonly NamedScalar[];
      readonly distinct: boolean;
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'summarize';
      readonly input: Query;
      readonly keys: readonly NamedScalar[];
      readonly values: readonly SummaryValue[];
      readonly columns: readonly Column[];
    }
  /** Sorted rows, serialized in that order; without keys (`serialize`), in the order they come. */
  | {
      readonly kind: 'sort';
      readonly input: Query;
      readonly keys: readonly SortKey[];
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'limit';
      readonly input: Query;
      readonly count: Scalar;
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'join';
      readonly join: JoinKind;
      readonly left: Query;
      readonly right: Query;
      readonly on: readonly { readonly left: Scalar; readonly right: Scalar }[];
      /** `evaluate ipv4_lookup`: rows also match where the left address is in the right range (CIDR). */
      readonly inRange?: { readonly address: Scalar; readonly range: Scalar };
      readonly outputs: readonly JoinOutput[];
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'union';
      readonly inputs: readonly Query[];
      /** `withsource=`: the column naming each row's input, and each input's label. */
      readonly source?: { readonly name: string; readonly labels: readonly string[] };
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'expand';
      readonly input: Query;
      readonly items: readonly ExpandItem[];
      readonly limit?: Scalar;
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'values';
      readonly rows: readonly (readonly Scalar[])[];
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly format: 'csv' | 'tsv' | 'json';
      readonly skipFirst: boolean;
      readonly columns: readonly Column[];
    }
  | {
      readonly kind: 'series';
      readonly input: Query;
      readonly keys: readonly NamedScalar[];
      readonly values: readonly (Column & {
        readonly fn: string;
        readonly args: readonly Scalar[];
        readonly fill: Scalar;
      })[];
      readonly axis: NamedScalar;
      readonly from: Scalar;
      readonly to: Scalar;
      readonly step: Scalar;
      readonly columns: readonly Column[];
    };

/** A let-bound or materialized table, written once and read by `ref`. */
export interface Binding {
  readonly name: string;
  readonly query: Query;
  readonly materialized: boolean;
}

/** `render`: how the caller should draw the result; never executed. */
export interface Render {
  readonly visualization: string;
  readonly properties: Readonly<Record<string, string>>;
}

/** A whole query: its bindings in order, the result, and the render request. */
export interface QueryPlan {
  readonly bindings: readonly Binding[];
  readonly body: Query;
  readonly render?: Render;
}
