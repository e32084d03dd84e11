// Compiles Sigma detection rules, with their log-source variants and meta-filters, into
// predicates indexed by (channel, event id), so that an event meets only the rules that can
// match it. Results are in rule order, so output is deterministic.
import {
  type Condition,
  type CorrelationRule,
  type DetectionRule,
  type FieldTest,
  type FilterRule,
  type LogSourceVariant,
  type Pipeline,
  resolveLogSource,
  type Search,
  type SigmaDiagnostic,
  type SigmaDocument,
  type ValueTest,
  wrapPattern,
} from '@palisade/sigma';
import type { EventFields } from './event-fields.ts';
import { conditionRequirement, LiteralPrefilter, type LiteralRequirement } from './literal-prefilter.ts';
import { compileValueTest } from './value-match.ts';

type EventPredicate = (event: EventFields) => boolean;

interface IndexedMatcher {
  readonly rule: number;
  readonly match: EventPredicate;
  readonly literals: LiteralRequirement | undefined;
}

/** The matchers of one (channel, event id) key, with their prefilter built on first use. */
class Bucket {
  readonly matchers: IndexedMatcher[] = [];
  private prefilter: LiteralPrefilter | undefined;

  /** Rule indexes of the matchers that match, in ascending order. */
  match(event: EventFields, out: number[]): void {
    this.prefilter ??= new LiteralPrefilter(this.matchers.map((m) => m.literals));
    for (const i of this.prefilter.candidates(event)) {
      const m = this.matchers[i] as IndexedMatcher;
      if (m.match(event)) out.push(m.rule);
    }
  }
}

interface ChannelIndex {
  readonly byEventId: Map<number, Bucket>;
  readonly anyEventId: Bucket;
}

/** Counts describing a compiled rule set. */
export interface RuleSetStats {
  /** Detection rules compiled. */
  readonly detection: number;
  /** Detection rules with at least one log source the pipeline maps to channels. */
  readonly active: number;
  readonly correlations: number;
  readonly filters: number;
}

/** Rules ready to match events. */
export interface RuleSet {
  readonly rules: readonly DetectionRule[];
  readonly correlations: readonly CorrelationRule[];
  readonly diagnostics: readonly SigmaDiagnostic[];
  readonly stats: RuleSetStats;
  /** Indexes (into `rules`) of the rules the event matches, ascending. */
  match(event: EventFields): number[];
}

/** The key a rule is referred to by from correlations and filters: its id, else its name. */
export function ruleKeys(rule: { readonly id?: string; readonly name?: string }): string[] {
  return [rule.id, rule.name].filter((k): k is string => k !== undefined);
}

/** Compiles loaded Sigma documents against a log-source pipeline. */
export function compileRuleSet(documents: readonly SigmaDocument[], pipeline: Pipeline): RuleSet {
  const diagnostics: SigmaDiagnostic[] = [];
  const rules = documents.filter((d): d is DetectionRule => d.kind === 'detection');
  const correlations = documents.filter((d): d is CorrelationRule => d.kind === 'correlation');
  const filters = documents.filter((d): d is FilterRule => d.kind === 'filter');
  const byKey = new Map<string, number>();
  rules.forEach((rule, i) => {
    for (const key of ruleKeys(rule)) {
      if (byKey.has(key) && key === rule.id) {
        diagnostics.push({
          severity: 'warning',
          code: 'sigma/duplicate-id',
          message: `rule id ${key} is also used by ${rules[byKey.get(key) as number]?.source.file}`,
          file: rule.source.file,
          line: rule.source.line,
          rule: rule.title,
        });
      }
      if (!byKey.has(key)) byKey.set(key, i);
    }
  });
  const filtersByRule = new Map<number, FilterRule[]>();
  for (const filter of filters) {
    for (const ref of filter.rules) {
      const i = byKey.get(ref);
      if (i === undefined) {
        diagnostics.push({
          severity: 'warning',
          code: 'sigma/unknown-rule-reference',
          message: `filter refers to rule '${ref}', which is not loaded`,
          file: filter.source.file,
          line: filter.source.line,
          rule: filter.title,
        });
        continue;
      }
      filtersByRule.set(i, [...(filtersByRule.get(i) ?? []), filter]);
    }
  }
  for (const c of correlations) {
    for (const ref of c.rules) {
      if (!byKey.has(ref) && !correlations.some((o) => ruleKeys(o).includes(ref))) {
        diagnostics.push({
          severity: 'warning',
          code: 'sigma/unknown-rule-reference',
          message: `correlation refers to rule '${ref}', which is not loaded`,
          file: c.source.file,
          line: c.source.line,
          rule: c.title,
        });
      }
    }
  }

  const channels = new Map<string, ChannelIndex>();
  let active = 0;
  rules.forEach((rule, index) => {
    const variants = resolveLogSource(pipeline, rule.logsource);
    let used = false;
    for (const variant of variants) {
      const compiled = compileVariant(rule, variant, filtersByRule.get(index) ?? []);
      if (!compiled) continue;
      used = true;
      for (const channel of variant.channels) {
        const key = channel.toLowerCase();
        let ci = channels.get(key);
        if (!ci) channels.set(key, (ci = { byEventId: new Map(), anyEventId: new Bucket() }));
        const entry = { rule: index, match: compiled.match, literals: compiled.literals };
        if (compiled.eventIds === undefined) ci.anyEventId.matchers.push(entry);
        else {
          for (const id of compiled.eventIds) {
            let bucket = ci.byEventId.get(id);
            if (!bucket) ci.byEventId.set(id, (bucket = new Bucket()));
            bucket.matchers.push(entry);
          }
        }
      }
    }
    if (used) active++;
  });

  return {
    rules,
    correlations,
    diagnostics,
    stats: { detection: rules.length, active, correlations: correlations.length, filters: filters.length },
    match(event) {
      const ci = channels.get(event.channel.toLowerCase());
      if (!ci) return [];
      const out: number[] = [];
      const specific = ci.byEventId.get(event.eventId);
      specific?.match(event, out);
      ci.anyEventId.match(event, out);
      if (specific && ci.anyEventId.matchers.length > 0) {
        out.sort((a, b) => a - b);
        return out.filter((r, i) => i === 0 || out[i - 1] !== r);
      }
      return out;
    },
  };
}

function compileVariant(
  rule: DetectionRule,
  variant: LogSourceVariant,
  filters: readonly FilterRule[],
):
  | {
      match: EventPredicate;
      eventIds: ReadonlySet<number> | undefined;
      literals: LiteralRequirement | undefined;
    }
  | undefined {
  const mapField = (f: string) => variant.fieldMappings[f] ?? f;
  let eventIds: Set<number> | undefined;
  const checks: EventPredicate[] = [];
  for (const [field, values] of Object.entries(variant.conditions)) {
    if (field === 'EventID') {
      eventIds = new Set(values.map(Number));
      continue;
    }
    const wanted = new Set(values.map((v) => v.toLowerCase()));
    checks.push((e) => {
      const v = e.get(field);
      return typeof v === 'string' && wanted.has(v.toLowerCase());
    });
  }
  const required = requiredEventIds(rule.condition, rule.searches, mapField);
  if (required)
    eventIds = eventIds ? new Set([...eventIds].filter((id) => required.has(id))) : new Set(required);
  // A variant whose event ids contradict the rule's own (e.g. Sysmon for a 4688 rule) never matches.
  if (eventIds && eventIds.size === 0) return undefined;
  const condition = compileCondition(rule.condition, compileSearches(rule.searches, mapField));
  const filterChecks = filters.map((f) =>
    compileCondition(f.condition, compileSearches(f.searches, mapField)),
  );
  const all = [...checks, condition, ...filterChecks];
  const match: EventPredicate = all.length === 1 ? condition : (e) => all.every((f) => f(e));
  // Filters only narrow a rule, so the rule's own literals stay necessary.
  return { match, eventIds, literals: conditionRequirement(rule.condition, rule.searches, mapField) };
}

function compileSearches(
  searches: Readonly<Record<string, Search>>,
  mapField: (f: string) => string,
): Map<string, EventPredicate> {
  const out = new Map<string, EventPredicate>();
  for (const [name, search] of Object.entries(searches)) out.set(name, compileSearch(search, mapField));
  return out;
}

function compileSearch(search: Search, mapField: (f: string) => string): EventPredicate {
  if (search.kind === 'keywords') {
    // Keywords are looked for anywhere in the event's values.
    const tests = search.tests.map((t) => compileValueTest(asKeyword(t), mapField));
    const some = (f: (typeof tests)[number]) => (e: EventFields) => {
      const values = e.values();
      return f(values, e);
    };
    const preds = tests.map(some);
    return search.all ? (e) => preds.every((p) => p(e)) : (e) => preds.some((p) => p(e));
  }
  const groups = search.groups.map((group) => {
    const fields = group.map((t) => compileFieldTest(t, mapField));
    return fields.length === 1
      ? (fields[0] as EventPredicate)
      : (e: EventFields) => fields.every((f) => f(e));
  });
  return groups.length === 1 ? (groups[0] as EventPredicate) : (e) => groups.some((g) => g(e));
}

function asKeyword(test: ValueTest): ValueTest {
  switch (test.kind) {
    case 'pattern':
      return { ...test, pattern: wrapPattern(test.pattern, true, true) };
    case 'anyOf':
      return { kind: 'anyOf', tests: test.tests.map(asKeyword) };
    default:
      return test;
  }
}

function compileFieldTest(test: FieldTest, mapField: (f: string) => string): EventPredicate {
  const field = mapField(test.field);
  const preds = test.tests.map((t) => compileValueTest(t, mapField));
  if (preds.length === 1) {
    const p = preds[0] as (typeof preds)[number];
    return (e) => p(e.get(field), e);
  }
  return test.all
    ? (e) => {
        const v = e.get(field);
        return preds.every((p) => p(v, e));
      }
    : (e) => {
        const v = e.get(field);
        return preds.some((p) => p(v, e));
      };
}

function compileCondition(condition: Condition, searches: Map<string, EventPredicate>): EventPredicate {
  switch (condition.kind) {
    case 'search': {
      const f = searches.get(condition.name);
      if (!f) throw new Error(`condition names unknown search ${condition.name}`);
      return f;
    }
    case 'not': {
      const f = compileCondition(condition.item, searches);
      return (e) => !f(e);
    }
    case 'and': {
      const fs = condition.items.map((c) => compileCondition(c, searches));
      return (e) => fs.every((f) => f(e));
    }
    case 'or': {
      const fs = condition.items.map((c) => compileCondition(c, searches));
      return (e) => fs.some((f) => f(e));
    }
    case 'of': {
      const fs = condition.names.map((n) => compileCondition({ kind: 'search', name: n }, searches));
      return condition.quantifier === 'all' ? (e) => fs.every((f) => f(e)) : (e) => fs.some((f) => f(e));
    }
    default:
      return assertNever(condition);
  }
}

// The event ids a condition can only match, when the rule pins them with plain `EventID`
// values; undefined when any id could match. Used only to narrow the index, never to widen.
function requiredEventIds(
  condition: Condition,
  searches: Readonly<Record<string, Search>>,
  mapField: (f: string) => string,
): Set<number> | undefined {
  const ofSearch = (name: string): Set<number> | undefined => {
    const s = searches[name];
    if (s?.kind !== 'fields') return undefined;
    const union: Set<number> | undefined = new Set();
    for (const group of s.groups) {
      const ids = groupIds(group);
      if (!ids) return undefined;
      for (const id of ids) union.add(id);
    }
    return union;
  };
  const groupIds = (group: readonly FieldTest[]): Set<number> | undefined => {
    for (const t of group) {
      if (mapField(t.field) !== 'EventID' || t.modifiers.length > 0) continue;
      const ids = new Set<number>();
      for (const v of t.tests) {
        if (
          v.kind !== 'pattern' ||
          v.pattern.length !== 1 ||
          v.pattern[0]?.kind !== 'text' ||
          !/^\d+$/.test(v.pattern[0].text)
        )
          return undefined;
        ids.add(Number(v.pattern[0].text));
      }
      return ids;
    }
    return undefined;
  };
  const walk = (c: Condition): Set<number> | undefined => {
    switch (c.kind) {
      case 'search':
        return ofSearch(c.name);
      case 'not':
        return undefined;
      case 'and':
      case 'or':
      case 'of': {
        const parts = c.kind === 'of' ? c.names.map(ofSearch) : c.items.map(walk);
        const conjunctive = c.kind === 'and' || (c.kind === 'of' && c.quantifier === 'all');
        if (conjunctive) {
          const known = parts.filter((p): p is Set<number> => p !== undefined);
          return known.length === 0 ? undefined : known.reduce((a, b) => (a.size <= b.size ? a : b));
        }
        if (parts.some((p) => p === undefined)) return undefined;
        return new Set(parts.flatMap((p) => [...(p as Set<number>)]));
      }
      default:
        return assertNever(c);
    }
  };
  return walk(condition);
}

function assertNever(value: never): never {
  throw new Error(`unhandled condition ${JSON.stringify(value)}`);
}
