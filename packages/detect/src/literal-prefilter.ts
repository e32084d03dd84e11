// A prefilter that skips rules which cannot match: most Sigma rules need some literal text in
// some field (`CommandLine|contains: 'mimikatz'`). One Aho-Corasick automaton per field finds
// all such literals in one pass over the value, and only rules whose literals were found (or
// that need none) are evaluated in full.
import type { Condition, FieldTest, Search, ValueTest } from '@palisade/sigma';
import type { EventFields, FieldValue } from './event-fields.ts';

/** At least one of these (field, lower-case literal) pairs is in the event if the rule matches. */
export type LiteralRequirement = readonly (readonly [field: string, literal: string])[];

// The literals one value test needs: one per alternative, or undefined if it needs none.
function testLiterals(test: ValueTest): string[] | undefined {
  switch (test.kind) {
    case 'pattern': {
      // Only patterns of text and `*` are matched by lower-casing, so only they are used here.
      if (!test.pattern.every((p) => p.kind === 'text' || p.kind === 'any')) return undefined;
      let best = '';
      for (const p of test.pattern) if (p.kind === 'text' && p.text.length > best.length) best = p.text;
      return best === '' ? undefined : [best.toLowerCase()];
    }
    case 'anyOf': {
      const parts = test.tests.map(testLiterals);
      return parts.every((p) => p !== undefined) ? parts.flat() : undefined;
    }
    default:
      return undefined;
  }
}

function fieldTestRequirement(t: FieldTest, mapField: (f: string) => string): LiteralRequirement | undefined {
  const field = mapField(t.field);
  const perValue = t.tests.map(testLiterals);
  if (t.all) {
    // Every value must match: any one value's literals are required; take the longest.
    const known = perValue.filter((p): p is string[] => p !== undefined);
    if (known.length === 0) return undefined;
    return known.reduce((a, b) => (score(b) > score(a) ? b : a)).map((l) => [field, l] as const);
  }
  if (perValue.some((p) => p === undefined)) return undefined;
  return (perValue as string[][]).flat().map((l) => [field, l] as const);
}

function score(literals: readonly string[]): number {
  return Math.min(...literals.map((l) => l.length));
}

function best(options: (LiteralRequirement | undefined)[]): LiteralRequirement | undefined {
  let chosen: LiteralRequirement | undefined;
  for (const o of options) {
    if (!o || o.length === 0) continue;
    const s = score(o.map(([, l]) => l));
    if (
      !chosen ||
      s > score(chosen.map(([, l]) => l)) ||
      (s === score(chosen.map(([, l]) => l)) && o.length < chosen.length)
    )
      chosen = o;
  }
  return chosen;
}

function union(options: (LiteralRequirement | undefined)[]): LiteralRequirement | undefined {
  if (options.length === 0 || options.some((o) => o === undefined)) return undefined;
  return (options as LiteralRequirement[]).flat();
}

function searchRequirement(
  search: Search | undefined,
  mapField: (f: string) => string,
): LiteralRequirement | undefined {
  if (search?.kind !== 'fields') return undefined;
  return union(search.groups.map((group) => best(group.map((t) => fieldTestRequirement(t, mapField)))));
}

/** The literals a condition needs, or undefined when it can match without any. */
export function conditionRequirement(
  condition: Condition,
  searches: Readonly<Record<string, Search>>,
  mapField: (f: string) => string,
): LiteralRequirement | undefined {
  const walk = (c: Condition): LiteralRequirement | undefined => {
    switch (c.kind) {
      case 'search':
        return searchRequirement(searches[c.name], mapField);
      case 'not':
        return undefined;
      case 'and':
        return best(c.items.map(walk));
      case 'or':
        return union(c.items.map(walk));
      case 'of': {
        const parts = c.names.map((n) => searchRequirement(searches[n], mapField));
        return c.quantifier === 'all' ? best(parts) : union(parts);
      }
      default:
        return undefined;
    }
  };
  return walk(condition);
}

/**
 * Aho-Corasick over UTF-16 code units. Transitions live in one map keyed by
 * `state * 65536 + code unit`, which takes far less memory than a map per state.
 */
class Automaton {
  private readonly next = new Map<number, number>();
  private states = 1;
  // Outgoing edges per state, needed only while building the failure links.
  private edges: [code: number, to: number][][] = [[]];
  private fail: Int32Array = new Int32Array(1);
  private readonly out: (number[] | undefined)[] = [undefined];

  add(text: string, id: number): void {
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const key = state * 65536 + c;
      let to = this.next.get(key);
      if (to === undefined) {
        to = this.states++;
        this.next.set(key, to);
        this.edges.push([]);
        this.out.push(undefined);
        this.edges[state]?.push([c, to]);
      }
      state = to;
    }
    (this.out[state] ??= []).push(id);
  }

  build(): void {
    this.fail = new Int32Array(this.states);
    const queue: number[] = (this.edges[0] ?? []).map(([, to]) => to);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      for (const [c, to] of this.edges[state] ?? []) {
        let f = this.fail[state] as number;
        while (f !== 0 && !this.next.has(f * 65536 + c)) f = this.fail[f] as number;
        const target = this.next.get(f * 65536 + c);
        this.fail[to] = target !== undefined && target !== to ? target : 0;
        const inherited = this.out[this.fail[to] as number];
        if (inherited) this.out[to] = [...(this.out[to] ?? []), ...inherited];
        queue.push(to);
      }
    }
    this.edges = [];
  }

  /** Calls `found` with the id of every literal that occurs in `text`. */
  search(text: string, found: (id: number) => void): void {
    let state = 0;
    const next = this.next;
    const fail = this.fail;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let to = next.get(state * 65536 + c);
      while (to === undefined && state !== 0) {
        state = fail[state] as number;
        to = next.get(state * 65536 + c);
      }
      state = to ?? 0;
      const ids = this.out[state];
      if (ids) for (let k = 0; k < ids.length; k++) found(ids[k] as number);
    }
  }
}

/**
 * Chooses, for one list of matchers, which to evaluate for an event: those without a
 * requirement, and those one of whose literals occurs in its field.
 */
export class LiteralPrefilter {
  private readonly fields: { field: string; automaton: Automaton; owners: number[][] }[] = [];
  private readonly always: number[] = [];
  private readonly stamp: Int32Array;
  private generation = 0;

  constructor(requirements: readonly (LiteralRequirement | undefined)[]) {
    this.stamp = new Int32Array(requirements.length);
    const byField = new Map<string, { automaton: Automaton; owners: number[][]; ids: Map<string, number> }>();
    requirements.forEach((req, matcher) => {
      if (!req) {
        this.always.push(matcher);
        return;
      }
      for (const [field, literal] of req) {
        let f = byField.get(field);
        if (!f) byField.set(field, (f = { automaton: new Automaton(), owners: [], ids: new Map() }));
        let id = f.ids.get(literal);
        if (id === undefined) {
          id = f.owners.length;
          f.ids.set(literal, id);
          f.owners.push([]);
          f.automaton.add(literal, id);
        }
        const owners = f.owners[id] as number[];
        if (owners[owners.length - 1] !== matcher) owners.push(matcher);
      }
    });
    for (const [field, f] of byField) {
      f.automaton.build();
      this.fields.push({ field, automaton: f.automaton, owners: f.owners });
    }
  }

  /** Indexes of the matchers to evaluate, ascending. */
  candidates(event: EventFields): number[] {
    const gen = ++this.generation;
    const stamp = this.stamp;
    const out = [...this.always];
    for (const { field, automaton, owners } of this.fields) {
      const value: FieldValue | undefined = event.get(field);
      if (value === undefined) continue;
      const found = (id: number) => {
        for (const m of owners[id] as number[]) {
          if (stamp[m] !== gen) {
            stamp[m] = gen;
            out.push(m);
          }
        }
      };
      if (typeof value === 'string') automaton.search(event.lower(value), found);
      else for (const v of value) automaton.search(event.lower(v), found);
    }
    // Matchers in `always` have no literals, so they cannot also have been found.
    return out.sort((a, b) => a - b);
  }
}
