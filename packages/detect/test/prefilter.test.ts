// The literal prefilter must never skip a rule that would match. Random rules (from a small
// vocabulary of field tests, keywords and conditions) and random events, from a seeded
// generator, are matched by the compiled rule set and by a naive evaluator written here from
// the Sigma semantics with plain string operations; the answers must be the same.
import type { EvtxEvent } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { evtxEventFields } from '../src/index.ts';
import { LiteralPrefilter } from '../src/literal-prefilter.ts';
import { compileRules, sysmonProcess } from './hand-events.ts';

/** mulberry32: a small seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const chance = (rng: Rng, p: number) => rng() < p;

// Letters that occur in no System value of the hand-written events (channel, provider,
// computer, SID, times ending in Z), so keywords can only be found in the EventData written here.
const letters = ['j', 'k', 'q', 'v', 'J', 'K', 'Q', 'V'];
const fields = ['CommandLine', 'Image', 'User', 'ParentImage'] as const;

type FieldSpec =
  | {
      readonly kind: 'values';
      readonly field: string;
      readonly match: 'exact' | 'contains' | 'startswith' | 'endswith';
      readonly cased: boolean;
      readonly all: boolean;
      readonly neq: boolean;
      readonly values: readonly string[];
    }
  | { readonly kind: 'null'; readonly field: string }
  | { readonly kind: 'exists'; readonly field: string; readonly exists: boolean };

type SearchSpec =
  | { readonly kind: 'maps'; readonly groups: readonly (readonly FieldSpec[])[] }
  | { readonly kind: 'keywords'; readonly all: boolean; readonly values: readonly string[] };

type CondSpec =
  | { readonly kind: 'ref'; readonly name: string }
  | { readonly kind: 'not'; readonly item: CondSpec }
  | { readonly kind: 'and' | 'or'; readonly left: CondSpec; readonly right: CondSpec }
  | { readonly kind: 'of'; readonly all: boolean; readonly prefix: string };

interface RuleSpec {
  readonly searches: ReadonlyMap<string, SearchSpec>;
  readonly condition: CondSpec;
}

function word(rng: Rng, min: number, max: number): string {
  const n = min + Math.floor(rng() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += pick(rng, letters);
  return s;
}

function ruleValue(rng: Rng, wildcards: boolean): string {
  const w = word(rng, 1, 3);
  if (!wildcards || !chance(rng, 0.2)) return w;
  const at = Math.floor(rng() * (w.length + 1));
  return `${w.slice(0, at)}${pick(rng, ['*', '?'])}${w.slice(at)}`;
}

function randomFieldSpec(rng: Rng, field: string): FieldSpec {
  const r = rng();
  if (r < 0.06) return { kind: 'null', field };
  if (r < 0.12) return { kind: 'exists', field, exists: chance(rng, 0.5) };
  const count = chance(rng, 0.6) ? 1 : 2 + Math.floor(rng() * 2);
  const values = Array.from({ length: count }, () => ruleValue(rng, true));
  return {
    kind: 'values',
    field,
    match: pick(rng, ['exact', 'contains', 'contains', 'startswith', 'endswith'] as const),
    cased: chance(rng, 0.2),
    all: count > 1 && chance(rng, 0.4),
    neq: chance(rng, 0.12),
    values,
  };
}

function randomMap(rng: Rng): FieldSpec[] {
  const chosen = [...fields].filter(() => chance(rng, 0.45));
  if (chosen.length === 0) chosen.push(pick(rng, fields));
  return chosen.map((f) => randomFieldSpec(rng, f));
}

function randomSearch(rng: Rng): SearchSpec {
  if (chance(rng, 0.12)) {
    const count = 1 + Math.floor(rng() * 3);
    return {
      kind: 'keywords',
      all: count > 1 && chance(rng, 0.5),
      values: Array.from({ length: count }, () => word(rng, 1, 3)),
    };
  }
  const groups = chance(rng, 0.25) ? 2 : 1;
  return { kind: 'maps', groups: Array.from({ length: groups }, () => randomMap(rng)) };
}

function randomCondition(rng: Rng, names: readonly string[], depth: number): CondSpec {
  const r = rng();
  if (depth > 2 || r < 0.35) return { kind: 'ref', name: pick(rng, names) };
  if (r < 0.45) return { kind: 'not', item: randomCondition(rng, names, depth + 1) };
  if (r < 0.55) {
    const prefix = pick(rng, names).split('_')[0] as string;
    return { kind: 'of', all: chance(rng, 0.5), prefix };
  }
  return {
    kind: chance(rng, 0.5) ? 'and' : 'or',
    left: randomCondition(rng, names, depth + 1),
    right: randomCondition(rng, names, depth + 1),
  };
}

function randomRule(rng: Rng): RuleSpec {
  const names = ['sel_a', 'sel_b', 'filter_a', 'filter_b', 'kw_a'].filter(() => chance(rng, 0.55));
  if (names.length === 0) names.push('sel_a');
  const searches = new Map(names.map((n) => [n, randomSearch(rng)] as const));
  return { searches, condition: randomCondition(rng, names, 0) };
}

function eventValue(rng: Rng): string {
  return word(rng, 0, 7).replace(/(.)(.)/, (_m, a: string, b: string) =>
    chance(rng, 0.3) ? `${a} ${b}` : a + b,
  );
}

function randomEvent(rng: Rng): Record<string, string | string[]> {
  const data: Record<string, string | string[]> = {};
  for (const f of fields) {
    const r = rng();
    if (r < 0.15) continue;
    if (r < 0.25) data[f] = '';
    else if (r < 0.33) data[f] = [eventValue(rng), eventValue(rng)];
    else data[f] = eventValue(rng);
  }
  return data;
}

// YAML text of a rule; every scalar is single-quoted (no backslashes or quotes can occur).
function ruleYaml(spec: RuleSpec, index: number): string {
  const q = (s: string) => `'${s}'`;
  const fieldEntry = (f: FieldSpec): string => {
    if (f.kind === 'null') return `${q(f.field)}: null`;
    if (f.kind === 'exists') return `${q(`${f.field}|exists`)}: ${f.exists}`;
    const mods = [
      f.match === 'exact' ? '' : f.match,
      f.cased ? 'cased' : '',
      f.all ? 'all' : '',
      f.neq ? 'neq' : '',
    ];
    const key = [f.field, ...mods.filter((m) => m !== '')].join('|');
    return `${q(key)}: [${f.values.map(q).join(', ')}]`;
  };
  const search = (s: SearchSpec): string => {
    if (s.kind === 'keywords')
      return s.all ? `{ '|all': [${s.values.map(q).join(', ')}] }` : `[${s.values.map(q).join(', ')}]`;
    const maps = s.groups.map((g) => `{ ${g.map(fieldEntry).join(', ')} }`);
    return maps.length === 1 ? (maps[0] as string) : `[${maps.join(', ')}]`;
  };
  const cond = (c: CondSpec): string => {
    switch (c.kind) {
      case 'ref':
        return c.name;
      case 'not':
        return `not ${cond(c.item)}`;
      case 'of':
        return `${c.all ? 'all' : '1'} of ${c.prefix}_*`;
      default:
        return `(${cond(c.left)} ${c.kind} ${cond(c.right)})`;
    }
  };
  const searches = [...spec.searches].map(([name, s]) => `  ${name}: ${search(s)}`).join('\n');
  return `title: random ${index}\nlogsource: { product: windows, category: process_creation }\ndetection:\n${searches}\n  condition: ${cond(spec.condition)}\n`;
}

// The naive evaluator: Sigma semantics written out with plain string operations.

/** `*` any run, `?` one character; the whole of `s` must match. */
function glob(pattern: string, s: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * 1000 + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === pattern.length) result = j === s.length;
    else if (pattern[i] === '*') result = go(i + 1, j) || (j < s.length && go(i, j + 1));
    else result = j < s.length && (pattern[i] === '?' || pattern[i] === s[j]) && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

function valueMatches(f: Extract<FieldSpec, { kind: 'values' }>, value: string, s: string): boolean {
  const p = `${f.match === 'contains' || f.match === 'endswith' ? '*' : ''}${value}${f.match === 'contains' || f.match === 'startswith' ? '*' : ''}`;
  return f.cased ? glob(p, s) : glob(p.toLowerCase(), s.toLowerCase());
}

function fieldHolds(f: FieldSpec, data: Record<string, string | string[]>): boolean {
  const raw = data[f.field];
  if (f.kind === 'null') return raw === undefined || raw === '';
  if (f.kind === 'exists') return (raw !== undefined) === f.exists;
  const strings = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
  const one = (value: string) => strings.some((s) => valueMatches(f, value, s));
  // neq: none of the values; all: every value; otherwise any value.
  if (f.neq) return f.values.every((v) => !one(v));
  return f.all ? f.values.every(one) : f.values.some(one);
}

function searchHolds(s: SearchSpec, data: Record<string, string | string[]>): boolean {
  if (s.kind === 'keywords') {
    const all = Object.values(data).flat();
    const found = (k: string) => all.some((v) => v.toLowerCase().includes(k.toLowerCase()));
    return s.all ? s.values.every(found) : s.values.some(found);
  }
  return s.groups.some((g) => g.every((f) => fieldHolds(f, data)));
}

function conditionHolds(c: CondSpec, rule: RuleSpec, data: Record<string, string | string[]>): boolean {
  switch (c.kind) {
    case 'ref':
      return searchHolds(rule.searches.get(c.name) as SearchSpec, data);
    case 'not':
      return !conditionHolds(c.item, rule, data);
    case 'and':
      return conditionHolds(c.left, rule, data) && conditionHolds(c.right, rule, data);
    case 'or':
      return conditionHolds(c.left, rule, data) || conditionHolds(c.right, rule, data);
    case 'of': {
      const selected = [...rule.searches].filter(([n]) => n.startsWith(`${c.prefix}_`)).map(([, s]) => s);
      return c.all ? selected.every((s) => searchHolds(s, data)) : selected.some((s) => searchHolds(s, data));
    }
  }
}

describe('the literal prefilter never changes results', () => {
  it('agrees with a naive evaluation on random rules and events', () => {
    const rounds = 250;
    const rulesPerRound = 12;
    const eventsPerRound = 40;
    let compared = 0;
    let positives = 0;
    const mismatches: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const rng = random(0x5eed + round);
      const specs = Array.from({ length: rulesPerRound }, () => randomRule(rng));
      const text = specs.map(ruleYaml).join('---\n');
      const ruleSet = compileRules(text);
      expect(ruleSet.rules).toHaveLength(rulesPerRound);
      for (let e = 0; e < eventsPerRound; e++) {
        const data = randomEvent(rng);
        const event: EvtxEvent = sysmonProcess(data);
        const actual = ruleSet.match(evtxEventFields(event));
        const expected = specs.flatMap((spec, i) => (conditionHolds(spec.condition, spec, data) ? [i] : []));
        compared++;
        positives += expected.length;
        if (JSON.stringify(actual) !== JSON.stringify(expected) && mismatches.length < 5) {
          const first =
            expected.find((i) => !actual.includes(i)) ?? actual.find((i) => !expected.includes(i));
          mismatches.push(
            `seed ${0x5eed + round}, event ${JSON.stringify(data)}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}\n${ruleYaml(specs[first ?? 0] as RuleSpec, first ?? 0)}`,
          );
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBe(rounds * eventsPerRound);
    // The generator must give a real mix of matching and non-matching rules, or the check is empty.
    const rate = positives / (compared * rulesPerRound);
    expect(rate).toBeGreaterThan(0.1);
    expect(rate).toBeLessThan(0.9);
  });
});

describe('LiteralPrefilter', () => {
  const event = (data: Record<string, string | string[]>) => evtxEventFields(sysmonProcess(data));

  it('finds overlapping literals in one pass, including ones inside others', () => {
    // The classic Aho-Corasick example: in "ushers", "she", "he" and "hers" occur; "his" does not.
    const prefilter = new LiteralPrefilter([
      [['CommandLine', 'he']],
      [['CommandLine', 'she']],
      [['CommandLine', 'his']],
      [['CommandLine', 'hers']],
    ]);
    expect(prefilter.candidates(event({ CommandLine: 'USHERS' }))).toEqual([0, 1, 3]);
    expect(prefilter.candidates(event({ CommandLine: 'this' }))).toEqual([2]);
    expect(prefilter.candidates(event({ CommandLine: 'xyz' }))).toEqual([]);
  });

  it('keeps matchers without literals, looks in the named field only, and in every value of a list', () => {
    const prefilter = new LiteralPrefilter([
      [['Image', 'cmd']],
      undefined,
      [
        ['CommandLine', 'whoami'],
        ['Image', 'whoami'],
      ],
    ]);
    expect(prefilter.candidates(event({ CommandLine: 'cmd', Image: 'x' }))).toEqual([1]);
    expect(prefilter.candidates(event({ Image: ['x', 'C:\\cmd.exe'] }))).toEqual([0, 1]);
    expect(prefilter.candidates(event({ Image: 'c:\\whoami.exe', CommandLine: 'WHOAMI' }))).toEqual([1, 2]);
  });
});
