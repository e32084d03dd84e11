// Typed Sigma documents: detection rules with their searches and condition, correlation rules
// and meta-filters (Sigma specification v2, its modifiers appendix, correlation and filter
// specifications). Matching semantics live in @palisade/detect.
import type { Pattern } from './pattern.ts';

export const sigmaLevels = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type SigmaLevel = (typeof sigmaLevels)[number];

export interface SourceLocation {
  readonly file: string;
  /** 1-based line of the document's first line. */
  readonly line: number;
}

export interface LogSource {
  readonly product?: string;
  readonly category?: string;
  readonly service?: string;
}

export const timeParts = ['minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export type TimePart = (typeof timeParts)[number];

/** One test a field value (or, for keywords, any value of the event) must pass. */
export type ValueTest =
  | { readonly kind: 'pattern'; readonly pattern: Pattern; readonly cased: boolean }
  | { readonly kind: 'regex'; readonly source: string; readonly flags: string }
  | { readonly kind: 'cidr'; readonly cidr: string }
  | { readonly kind: 'compare'; readonly op: 'lt' | 'lte' | 'gt' | 'gte'; readonly value: number }
  | { readonly kind: 'exists'; readonly exists: boolean }
  /** `null`: the field is absent or empty. */
  | { readonly kind: 'null' }
  | {
      readonly kind: 'fieldref';
      readonly field: string;
      readonly match: 'exact' | 'contains' | 'startswith' | 'endswith';
      readonly cased: boolean;
    }
  /** Any of the alternatives, e.g. the three shifts of `base64offset`. */
  | { readonly kind: 'anyOf'; readonly tests: readonly ValueTest[] }
  /** `neq`: the value does not pass the test. */
  | { readonly kind: 'not'; readonly test: ValueTest }
  /** A time modifier: the part of the field's timestamp is tested as a number. */
  | { readonly kind: 'timePart'; readonly part: TimePart; readonly test: ValueTest };

/** `Field|mods: values` — the field's value must pass any (or with `all`, every) test. */
export interface FieldTest {
  readonly field: string;
  readonly modifiers: readonly string[];
  readonly tests: readonly ValueTest[];
  readonly all: boolean;
}

/** A search identifier's definition. */
export type Search =
  /** Maps: each group is a map whose tests are ANDed; groups (a list of maps) are ORed. */
  | { readonly kind: 'fields'; readonly groups: readonly (readonly FieldTest[])[] }
  /** Keywords: values looked for in any field of the event; ORed, or ANDed with `|all`. */
  | { readonly kind: 'keywords'; readonly tests: readonly ValueTest[]; readonly all: boolean };

export type Condition =
  | { readonly kind: 'and'; readonly items: readonly Condition[] }
  | { readonly kind: 'or'; readonly items: readonly Condition[] }
  | { readonly kind: 'not'; readonly item: Condition }
  | { readonly kind: 'search'; readonly name: string }
  /** `1 of x*`, `all of them`: `names` are the search identifiers the pattern selected. */
  | { readonly kind: 'of'; readonly quantifier: 'any' | 'all'; readonly names: readonly string[] };

export interface RuleMeta {
  readonly id?: string;
  readonly name?: string;
  readonly title: string;
  readonly status?: string;
  readonly description?: string;
  readonly author?: string;
  readonly date?: string;
  readonly level: SigmaLevel;
  readonly tags: readonly string[];
  readonly references: readonly string[];
  readonly falsepositives: readonly string[];
  readonly source: SourceLocation;
}

export interface DetectionRule extends RuleMeta {
  readonly kind: 'detection';
  readonly logsource: LogSource;
  readonly searches: Readonly<Record<string, Search>>;
  readonly condition: Condition;
  readonly fields: readonly string[];
}

export const correlationTypes = ['event_count', 'value_count', 'temporal', 'temporal_ordered'] as const;
export type CorrelationType = (typeof correlationTypes)[number];

export interface CorrelationComparison {
  readonly op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';
  readonly value: number;
}

/** Comparisons that must all hold, e.g. `{ gt: 100, lte: 200 }`. */
export interface CorrelationCondition {
  readonly ops: readonly CorrelationComparison[];
  /** value_count: the field whose distinct values are counted. */
  readonly field?: string;
}

export interface CorrelationRule extends RuleMeta {
  readonly kind: 'correlation';
  readonly type: CorrelationType;
  /** Referenced rules by id or name, in order (order matters for temporal_ordered). */
  readonly rules: readonly string[];
  readonly groupBy: readonly string[];
  /** Window length in milliseconds. */
  readonly timespanMs: number;
  readonly condition?: CorrelationCondition;
  /** alias → (rule id or name → field name in that rule's events). */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Whether the referenced rules also raise their own alerts (`generate`). */
  readonly generate: boolean;
}

export interface FilterRule extends RuleMeta {
  readonly kind: 'filter';
  readonly logsource: LogSource;
  /** Rules (ids or names) the filter applies to. */
  readonly rules: readonly string[];
  readonly searches: Readonly<Record<string, Search>>;
  readonly condition: Condition;
}

export type SigmaDocument = DetectionRule | CorrelationRule | FilterRule;
