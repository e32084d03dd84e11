// Sigma correlation rules (event_count, value_count, temporal, temporal_ordered) over the
// stream of rule matches: grouped by the group-by fields (through aliases), windowed by
// timespan on event time — never the wall clock — with bounded state per group.
import type { CorrelationCondition, CorrelationRule } from '@palisade/sigma';
import type { Alert, AlertEvent } from './alert.ts';
import { ruleKeys } from './compile.ts';
import type { EventFields } from './event-fields.ts';

/** Entries kept per group at most; the oldest go first. */
export const MAX_ENTRIES_PER_GROUP = 10_000;
/** Groups kept per correlation at most; the least recently seen go first. */
export const MAX_GROUPS = 100_000;

interface Entry {
  readonly time: number;
  readonly rule: string;
  readonly value: string | undefined;
  /** The event, or for a chained correlation's alert, the events behind it. */
  readonly events: readonly AlertEvent[];
}

interface Group {
  readonly key: string;
  readonly values: Record<string, string>;
  entries: Entry[];
  /** The latest event time seen in this group: one host's clock cannot expire another's events. */
  watermark: number;
}

interface State {
  readonly rule: CorrelationRule;
  readonly groups: Map<string, Group>;
}

/** What `CorrelationEngine.snapshot` gives and `restore` takes: JSON all the way down. */
export interface CorrelationSnapshot {
  readonly version: 1;
  readonly states: readonly {
    /** The correlation's id and title (`correlationName`). */
    readonly rule: string;
    readonly groups: readonly {
      readonly key: string;
      readonly values: Record<string, string>;
      readonly entries: Entry[];
      readonly watermark: number | null;
    }[];
  }[];
}

function correlationName(rule: CorrelationRule): string {
  return `${rule.id ?? ''}|${rule.title}`;
}

function fieldText(fields: EventFields, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const v = fields.get(name);
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}

function meets(condition: CorrelationCondition, actual: number): boolean {
  return condition.ops.every((c) => compare(c.op, actual, c.value));
}

// Counts compared with lt, lte, eq or neq can only be judged once a window is over.
function judgedAtClose(c: CorrelationRule): boolean {
  return (
    (c.type === 'event_count' || c.type === 'value_count') &&
    c.condition !== undefined &&
    c.condition.ops.some((o) => o.op !== 'gt' && o.op !== 'gte')
  );
}

function compare(op: string, actual: number, wanted: number): boolean {
  switch (op) {
    case 'gt':
      return actual > wanted;
    case 'gte':
      return actual >= wanted;
    case 'lt':
      return actual < wanted;
    case 'lte':
      return actual <= wanted;
    case 'eq':
      return actual === wanted;
    case 'neq':
      return actual !== wanted;
    default:
      return false;
  }
}

// The event field behind a group-by or condition field: aliases name a rule by its `name` (as the
// specification says) or its id, whichever way the correlation refers to the rule.
function aliased(c: CorrelationRule, field: string, keys: readonly string[]): string {
  const mapping = c.aliases[field];
  for (const key of keys) {
    const name = mapping?.[key];
    if (name !== undefined) return name;
  }
  return field;
}

/** Feeds rule matches to every correlation that references them. */
export class CorrelationEngine {
  private readonly states: State[];
  private readonly byRuleKey = new Map<string, State[]>();

  constructor(correlations: readonly CorrelationRule[]) {
    this.states = correlations.map((rule) => ({ rule, groups: new Map() }));
    for (const state of this.states) {
      for (const key of state.rule.rules)
        this.byRuleKey.set(key, [...(this.byRuleKey.get(key) ?? []), state]);
    }
  }

  /** Rule keys whose own alerts are suppressed because a correlation uses them without `generate`. */
  suppressed(rule: { readonly id?: string; readonly name?: string }): boolean {
    return ruleKeys(rule).some((k) => (this.byRuleKey.get(k) ?? []).some((s) => !s.rule.generate));
  }

  /** True when some correlation references the rule. */
  uses(rule: { readonly id?: string; readonly name?: string }): boolean {
    return ruleKeys(rule).some((k) => this.byRuleKey.has(k));
  }

  /**
   * Records that `rule` matched `fields`; returns the correlation alerts this completes.
   * `evidence` is what stands behind the match when it is itself a correlation's alert.
   */
  push(
    rule: { readonly id?: string; readonly name?: string },
    fields: EventFields,
    event: AlertEvent,
    evidence: readonly AlertEvent[] = [event],
  ): Alert[] {
    const time = Date.parse(event.timestamp);
    if (Number.isNaN(time)) return [];
    const alerts: Alert[] = [];
    const keys = ruleKeys(rule);
    for (const key of keys) {
      for (const state of this.byRuleKey.get(key) ?? []) {
        const fired = this.add(state, key, keys, fields, evidence, time);
        alerts.push(...fired);
      }
    }
    // A correlation can itself be referenced by another correlation.
    for (const alert of [...alerts]) {
      const source = this.sourceOf(alert);
      if (source)
        alerts.push(
          ...this.push(
            source.rule,
            groupFields(alert, fields),
            { ...event, timestamp: alert.timestamp },
            alert.events,
          ),
        );
    }
    return this.reported(alerts);
  }

  /** Ends the stream: windows still open are judged, for conditions such as `lt`. */
  flush(): Alert[] {
    const alerts: Alert[] = [];
    for (const state of this.states) {
      for (const group of state.groups.values())
        alerts.push(...this.closeWindows(state, group, Number.POSITIVE_INFINITY));
      state.groups.clear();
    }
    return this.reported(alerts);
  }

  private sourceOf(alert: Alert): State | undefined {
    return this.states.find(
      (s) => s.rule.title === alert.title && (s.rule.id ?? '') === (alert.ruleId ?? ''),
    );
  }

  // A correlation used by another one without `generate` raises no alert of its own (specification,
  // "Generate": only the correlation is generated by default); it still feeds the one using it.
  private reported(alerts: Alert[]): Alert[] {
    return alerts.filter((a) => {
      const source = this.sourceOf(a);
      return source === undefined || !this.suppressed(source.rule);
    });
  }

  /**
   * The engine's state as plain JSON: every open group of every correlation, so an instance that
   * restarts goes on counting where it stopped. Correlations are named by id and title.
   */
  snapshot(): CorrelationSnapshot {
    return {
      version: 1,
      states: this.states
        .filter((s) => s.groups.size > 0)
        .map((s) => ({
          rule: correlationName(s.rule),
          groups: [...s.groups.values()].map((g) => ({
            key: g.key,
            values: g.values,
            entries: g.entries,
            watermark: Number.isFinite(g.watermark) ? g.watermark : null,
          })),
        })),
    };
  }

  /**
   * Takes back a snapshot's open groups. Correlations no longer loaded are skipped (their rules
   * were removed); the engine's own bounds still hold.
   */
  restore(snapshot: CorrelationSnapshot): void {
    const byName = new Map(this.states.map((s) => [correlationName(s.rule), s]));
    for (const saved of snapshot.states) {
      const state = byName.get(saved.rule);
      if (!state) continue;
      for (const g of saved.groups.slice(-MAX_GROUPS)) {
        state.groups.set(g.key, {
          key: g.key,
          values: g.values,
          entries: g.entries.slice(-MAX_ENTRIES_PER_GROUP),
          watermark: g.watermark ?? Number.NEGATIVE_INFINITY,
        });
      }
    }
  }

  /** True when some correlation has an open window. */
  get hasState(): boolean {
    return this.states.some((s) => s.groups.size > 0);
  }

  /** Number of entries held, across all correlations and groups. */
  get size(): number {
    let n = 0;
    for (const s of this.states) for (const g of s.groups.values()) n += g.entries.length;
    return n;
  }

  private add(
    state: State,
    ruleKey: string,
    keys: readonly string[],
    fields: EventFields,
    events: readonly AlertEvent[],
    time: number,
  ): Alert[] {
    const c = state.rule;
    const values: Record<string, string> = {};
    for (const field of c.groupBy) values[field] = fieldText(fields, aliased(c, field, keys)) ?? '';
    const key = JSON.stringify(c.groupBy.map((f) => values[f]));
    let group = state.groups.get(key);
    if (!group) {
      if (state.groups.size >= MAX_GROUPS) {
        const oldest = state.groups.keys().next().value;
        if (oldest !== undefined) state.groups.delete(oldest);
      }
      group = { key, values, entries: [], watermark: Number.NEGATIVE_INFINITY };
    } else state.groups.delete(key);
    state.groups.set(key, group); // most recently seen last
    const condField = c.condition?.field;
    const entry: Entry = {
      time,
      rule: ruleKey,
      value: fieldText(fields, condField ? aliased(c, condField, keys) : undefined),
      events,
    };
    // Insert in time order: events may arrive out of order.
    let i = group.entries.length;
    while (i > 0 && (group.entries[i - 1] as Entry).time > time) i--;
    group.entries.splice(i, 0, entry);
    if (group.entries.length > MAX_ENTRIES_PER_GROUP) group.entries.shift();
    group.watermark = Math.max(group.watermark, time);
    const alerts = this.closeWindows(state, group, group.watermark - c.timespanMs);
    alerts.push(...this.fireOnArrival(state, group, time));
    if (group.entries.length === 0) state.groups.delete(key);
    return alerts;
  }

  // Conditions that can only be judged when a window is over (lt, lte, eq, neq on counts):
  // each window starting at the group's oldest entry closes once the watermark passes it.
  private closeWindows(state: State, group: Group, before: number): Alert[] {
    const c = state.rule;
    const alerts: Alert[] = [];
    const atClose = judgedAtClose(c);
    // An entry older than `before` can share no window with what is still to come.
    while (group.entries.length > 0 && (group.entries[0] as Entry).time < before) {
      if (atClose) {
        // Such windows follow one another, each starting at the group's first event after the
        // last: sliding them one event at a time would end every group on a window of one event,
        // which meets any `lt`.
        const start = (group.entries[0] as Entry).time;
        const window = group.entries.filter((e) => e.time <= start + c.timespanMs);
        if (this.holds(c, window)) alerts.push(this.alert(c, group, window));
        group.entries = group.entries.filter((e) => !window.includes(e));
        continue;
      }
      group.entries.shift();
    }
    return alerts;
  }

  // Conditions met as soon as enough arrives (gt, gte, temporal): look at every window of
  // length timespan that contains the new entry.
  private fireOnArrival(state: State, group: Group, time: number): Alert[] {
    const c = state.rule;
    if (judgedAtClose(c)) return [];
    const entries = group.entries;
    for (const first of entries) {
      if (first.time < time - c.timespanMs) continue;
      if (first.time > time) break;
      const window = entries.filter((e) => e.time >= first.time && e.time <= first.time + c.timespanMs);
      if (this.holds(c, window)) {
        group.entries = entries.filter((e) => !window.includes(e));
        return [this.alert(c, group, window)];
      }
    }
    return [];
  }

  private holds(c: CorrelationRule, window: readonly Entry[]): boolean {
    switch (c.type) {
      case 'event_count':
        return c.condition !== undefined && meets(c.condition, window.length);
      case 'value_count': {
        const distinct = new Set(window.map((e) => e.value).filter((v) => v !== undefined && v !== ''));
        return c.condition !== undefined && meets(c.condition, distinct.size);
      }
      case 'temporal': {
        const seen = new Set(window.map((e) => e.rule));
        const count = c.rules.filter((r) => seen.has(r)).length;
        return c.condition ? meets(c.condition, count) : count === c.rules.length;
      }
      case 'temporal_ordered': {
        let next = 0;
        for (const e of window) if (e.rule === c.rules[next]) next++;
        return next === c.rules.length;
      }
      default:
        return false;
    }
  }

  private alert(c: CorrelationRule, group: Group, window: readonly Entry[]): Alert {
    // A chained correlation's entries bring several events each; keep them in time order.
    const events = window
      .flatMap((e) => e.events)
      .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    const last = events[events.length - 1] as AlertEvent;
    return {
      kind: 'correlation',
      ...(c.id ? { ruleId: c.id } : {}),
      title: c.title,
      level: c.level,
      tags: c.tags,
      timestamp: last.timestamp,
      events,
      group: group.values,
      ruleFile: c.source.file,
    };
  }
}

// The fields a chained correlation sees from a correlation alert: its group values.
function groupFields(alert: Alert, fallback: EventFields): EventFields {
  const group = alert.group ?? {};
  return {
    channel: fallback.channel,
    eventId: fallback.eventId,
    timestamp: alert.timestamp,
    get: (name) => group[name] ?? fallback.get(name),
    values: () => Object.values(group),
    lower: (value) => value.toLowerCase(),
  };
}
