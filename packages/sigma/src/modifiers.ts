// Value modifiers (Sigma modifiers appendix v2.1) as a registry: each name says what kind of
// modifier it is; `buildFieldTest` applies a chain to a field's values and yields the tests.

import { isIP } from 'node:net';
import { SigmaError } from './diagnostics.ts';
import {
  isLiteral,
  literalPattern,
  mapText,
  type Pattern,
  parsePattern,
  patternText,
  wrapPattern,
} from './pattern.ts';
import type { TimePart, ValueTest } from './rule.ts';

type ModifierKind = 'match' | 'transform' | 'type' | 'flag' | 'regexFlag' | 'time' | 'compare';

/** Every modifier Palisade accepts, by name. */
export const modifierKinds: Readonly<Record<string, ModifierKind>> = {
  contains: 'match',
  startswith: 'match',
  endswith: 'match',
  all: 'flag',
  cased: 'flag',
  neq: 'flag',
  exists: 'type',
  re: 'type',
  cidr: 'type',
  fieldref: 'type',
  i: 'regexFlag',
  m: 'regexFlag',
  s: 'regexFlag',
  base64: 'transform',
  base64offset: 'transform',
  utf16le: 'transform',
  utf16be: 'transform',
  utf16: 'transform',
  wide: 'transform',
  windash: 'transform',
  expand: 'transform',
  lt: 'compare',
  lte: 'compare',
  gt: 'compare',
  gte: 'compare',
  minute: 'time',
  hour: 'time',
  day: 'time',
  week: 'time',
  month: 'time',
  year: 'time',
};

/** Placeholder values for `expand`, e.g. `{ Administrators: ['admin*', 'root'] }`. */
export type Placeholders = Readonly<Record<string, readonly string[]>>;

/** A raw YAML scalar from a rule. */
export type RawValue = string | number | boolean | null;

// A value in the middle of a modifier chain: a pattern, or bytes awaiting base64.
type Working = { kind: 'pattern'; pattern: Pattern } | { kind: 'bytes'; bytes: Uint8Array };

const DASHES = '-/\u2013\u2014\u2015';

/**
 * Builds the test for `field|modifiers: values`. Throws SigmaError naming the modifier or
 * value it cannot use.
 */
export function buildValueTests(
  modifiers: readonly string[],
  values: readonly RawValue[],
  placeholders: Placeholders,
): { tests: ValueTest[]; all: boolean } {
  for (const m of modifiers) {
    if (!(m in modifierKinds)) throw new SigmaError('sigma/unknown-modifier', `unknown modifier '${m}'`);
  }
  const has = (m: string) => modifiers.includes(m);
  const all = has('all');
  const cased = has('cased');
  const neq = has('neq');
  if (all && values.length < 2) {
    // The specification forbids `all` on a single value; it is harmless, so accept it.
  }
  const typeMods = modifiers.filter((m) => modifierKinds[m] === 'type');
  if (typeMods.length > 1)
    throw new SigmaError('sigma/bad-modifier', `modifiers '${typeMods.join("' and '")}' cannot be combined`);
  const typeMod = typeMods[0];
  const compare = modifiers.find((m) => modifierKinds[m] === 'compare') as
    | 'lt'
    | 'lte'
    | 'gt'
    | 'gte'
    | undefined;
  const timePart = modifiers.find((m) => modifierKinds[m] === 'time') as TimePart | undefined;
  const match = modifiers.find((m) => modifierKinds[m] === 'match') as
    | 'contains'
    | 'startswith'
    | 'endswith'
    | undefined;
  const regexFlags = modifiers.filter((m) => modifierKinds[m] === 'regexFlag');
  if (regexFlags.length > 0 && typeMod !== 're') {
    throw new SigmaError('sigma/bad-modifier', `regular-expression flag '${regexFlags[0]}' without 're'`);
  }

  const tests: ValueTest[] = [];
  for (const raw of values) {
    let test = buildOne(raw);
    if (timePart) test = { kind: 'timePart', part: timePart, test };
    if (neq) test = { kind: 'not', test };
    tests.push(test);
  }
  // `neq` over a list means "none of these": every negated test must hold.
  return { tests, all: all || neq };

  function buildOne(raw: RawValue): ValueTest {
    if (typeMod === 'exists') {
      if (typeof raw !== 'boolean')
        throw new SigmaError('sigma/bad-value', `'exists' takes true or false, found ${JSON.stringify(raw)}`);
      return { kind: 'exists', exists: raw };
    }
    if (compare) {
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (raw === null || typeof raw === 'boolean' || Number.isNaN(n)) {
        throw new SigmaError('sigma/bad-value', `'${compare}' takes a number, found ${JSON.stringify(raw)}`);
      }
      return { kind: 'compare', op: compare, value: n };
    }
    if (raw === null) {
      if (modifiers.length > 0 && !(modifiers.length === 1 && neq)) {
        throw new SigmaError(
          'sigma/bad-value',
          `null cannot be used with modifiers '${modifiers.join('|')}'`,
        );
      }
      return { kind: 'null' };
    }
    const text = typeof raw === 'string' ? raw : String(raw);
    if (typeMod === 're') {
      // PCRE's leading inline flags, e.g. `(?i)`, become JavaScript flags.
      const inline = /^\(\?([imsx]+)\)/.exec(text);
      const wanted = new Set([...regexFlags, ...(inline?.[1] ?? '')]);
      if (wanted.has('x'))
        throw new SigmaError('sigma/unsupported', `regular-expression flag 'x' (extended) is not supported`);
      const source = inline ? text.slice(inline[0].length) : text;
      const flags = `${wanted.has('i') ? 'i' : ''}${wanted.has('m') ? 'm' : ''}${wanted.has('s') ? 's' : ''}`;
      try {
        new RegExp(source, flags);
      } catch (e) {
        throw new SigmaError(
          'sigma/bad-value',
          `invalid regular expression ${JSON.stringify(text)}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      return { kind: 'regex', source, flags };
    }
    if (typeMod === 'cidr') {
      // Checked here, address and prefix length, so that a bad network rejects only its rule.
      const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
      const family = isIP(m?.[1] ?? '');
      if (family === 0 || Number(m?.[2]) > (family === 4 ? 32 : 128))
        throw new SigmaError('sigma/bad-value', `invalid CIDR ${JSON.stringify(text)}`);
      return { kind: 'cidr', cidr: text };
    }
    if (typeMod === 'fieldref') {
      return { kind: 'fieldref', field: text, match: match ?? 'exact', cased };
    }
    // Numbers and booleans are matched as their text; strings are wildcard patterns.
    let working: Working[] = [
      { kind: 'pattern', pattern: typeof raw === 'string' ? parsePattern(text) : literalPattern(text) },
    ];
    for (const m of modifiers) {
      if (modifierKinds[m] === 'transform') working = working.flatMap((w) => transform(m, w));
    }
    const alternatives = working.map((w): ValueTest => {
      if (w.kind === 'bytes')
        throw new SigmaError(
          'sigma/bad-modifier',
          `'${modifiers.find((m) => m.startsWith('utf16') || m === 'wide')}' must be followed by 'base64' or 'base64offset'`,
        );
      const pattern = match
        ? wrapPattern(w.pattern, match !== 'startswith', match !== 'endswith')
        : w.pattern;
      return { kind: 'pattern', pattern, cased };
    });
    return alternatives.length === 1
      ? (alternatives[0] as ValueTest)
      : { kind: 'anyOf', tests: alternatives };
  }

  function transform(m: string, w: Working): Working[] {
    switch (m) {
      case 'windash':
        if (w.kind !== 'pattern') return [w];
        return [{ kind: 'pattern', pattern: mapText(w.pattern, windash) }];
      case 'expand':
        if (w.kind !== 'pattern') return [w];
        return expand(w.pattern, placeholders).map((pattern) => ({ kind: 'pattern', pattern }));
      case 'utf16le':
      case 'wide':
        return [{ kind: 'bytes', bytes: utf16(plain(w, m), true, false) }];
      case 'utf16be':
        return [{ kind: 'bytes', bytes: utf16(plain(w, m), false, false) }];
      case 'utf16':
        return [{ kind: 'bytes', bytes: utf16(plain(w, m), true, true) }];
      case 'base64':
        return [{ kind: 'pattern', pattern: literalPattern(Buffer.from(bytesOf(w, m)).toString('base64')) }];
      case 'base64offset':
        return base64Offsets(bytesOf(w, m)).map((text) => ({
          kind: 'pattern',
          pattern: literalPattern(text),
        }));
      default:
        return [w];
    }
  }
}

function plain(w: Working, m: string): string {
  if (w.kind === 'bytes')
    throw new SigmaError('sigma/bad-modifier', `'${m}' applies to text, not to already encoded bytes`);
  if (!isLiteral(w.pattern))
    throw new SigmaError('sigma/bad-value', `'${m}' cannot encode a value with wildcards`);
  return patternText(w.pattern);
}

function bytesOf(w: Working, m: string): Uint8Array {
  return w.kind === 'bytes' ? w.bytes : new TextEncoder().encode(plain(w, m));
}

function utf16(text: string, littleEndian: boolean, bom: boolean): Uint8Array {
  const out = new Uint8Array((text.length + (bom ? 1 : 0)) * 2);
  let p = 0;
  const put = (code: number) => {
    out[p++] = littleEndian ? code & 0xff : code >> 8;
    out[p++] = littleEndian ? code >> 8 : code & 0xff;
  };
  if (bom) put(0xfeff);
  for (let i = 0; i < text.length; i++) put(text.charCodeAt(i));
  return out;
}

/**
 * The three base64 forms of `bytes` when it starts 0, 1 or 2 bytes into a base64-encoded
 * string: leading characters that depend on preceding bytes and trailing ones that depend on
 * following bytes are cut off.
 */
export function base64Offsets(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = new Uint8Array(shift + bytes.length);
    padded.set(bytes, shift);
    const encoded = Buffer.from(padded).toString('base64');
    // Each byte of padding spoils the character that mixes it with the value's first bits.
    const start = [0, 2, 3][shift] as number;
    // 1 or 2 bytes in the last group leave 2 or 3 characters plus '=' padding; the last
    // character mixes in bits of whatever follows, so it is cut with the padding.
    const rest = (bytes.length + shift) % 3;
    const end = encoded.length - (rest === 0 ? 0 : rest === 1 ? 3 : 2);
    out.push(encoded.slice(start, end));
  }
  return out;
}

function windash(text: string): Pattern {
  const parts: Pattern[number][] = [];
  let run = '';
  for (const c of text) {
    if (DASHES.includes(c)) {
      if (run !== '') parts.push({ kind: 'text', text: run });
      run = '';
      parts.push({ kind: 'class', chars: DASHES });
    } else run += c;
  }
  if (run !== '') parts.push({ kind: 'text', text: run });
  return parts;
}

// `%name%` placeholders become each of their values; `\%` is a plain percent sign.
function expand(pattern: Pattern, placeholders: Placeholders): Pattern[] {
  let results: Pattern[] = [[]];
  for (const part of pattern) {
    if (part.kind !== 'text') {
      results = results.map((r) => [...r, part]);
      continue;
    }
    const pieces = part.text.split(/(?<!\\)(%[A-Za-z0-9_.-]+%)/);
    for (const piece of pieces) {
      if (piece === '') continue;
      const m = /^%([A-Za-z0-9_.-]+)%$/.exec(piece);
      if (!m) {
        results = results.map((r) => [...r, { kind: 'text', text: piece.replaceAll('\\%', '%') }]);
        continue;
      }
      const name = m[1] as string;
      const values = placeholders[name];
      if (!values)
        throw new SigmaError(
          'sigma/unknown-placeholder',
          `placeholder %${name}% has no values; give them in a placeholder file`,
        );
      const expanded = values.map(parsePattern);
      results = results.flatMap((r) => expanded.map((v) => [...r, ...v]));
    }
  }
  return results;
}
