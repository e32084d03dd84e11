// Compiles Sigma value tests into predicates over field values: wildcard patterns become
// index checks where they can (exact, prefix, suffix, substring) and regular expressions
// otherwise; matching is case-insensitive unless the rule says `cased`.
import type { Pattern, TimePart, ValueTest } from '@palisade/sigma';
import type { EventFields, FieldValue } from './event-fields.ts';

/** A compiled test of one field's value (undefined when the field is absent). */
export type ValuePredicate = (value: FieldValue | undefined, event: EventFields) => boolean;

/** A test of one string; `event` caches lower-cased values for case-insensitive tests. */
type StringPredicate = (s: string, event: EventFields) => boolean;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function escapeClass(s: string): string {
  return s.replace(/[\\\][^-]/g, '\\$&');
}

/** A predicate for a wildcard pattern. */
export function compilePattern(pattern: Pattern, cased: boolean): StringPredicate {
  const parts = pattern;
  const texts = parts.filter((p) => p.kind === 'text');
  const onlyTextAndAny = parts.every((p) => p.kind === 'text' || p.kind === 'any');
  if (onlyTextAndAny && texts.length <= 1) {
    const raw = texts[0]?.kind === 'text' ? texts[0].text : '';
    const text = cased ? raw : raw.toLowerCase();
    const leading = parts[0]?.kind === 'any';
    const trailing = parts.length > 0 && parts[parts.length - 1]?.kind === 'any';
    if (parts.length === 0) return (s) => s === '';
    if (texts.length === 0) return () => true;
    if (cased) {
      if (leading && trailing) return (s) => s.includes(text);
      if (leading) return (s) => s.endsWith(text);
      if (trailing) return (s) => s.startsWith(text);
      return (s) => s === text;
    }
    if (leading && trailing) return (s, e) => e.lower(s).includes(text);
    if (leading) return (s, e) => e.lower(s).endsWith(text);
    if (trailing) return (s, e) => e.lower(s).startsWith(text);
    // No length shortcut: lower-casing can change a string's length (`İ` becomes `i̇`).
    return (s, e) => e.lower(s) === text;
  }
  let source = '^';
  for (const p of parts) {
    switch (p.kind) {
      case 'text':
        source += escapeRegExp(p.text);
        break;
      case 'any':
        source += '[\\s\\S]*';
        break;
      case 'one':
        source += '[\\s\\S]';
        break;
      case 'class':
        source += `[${escapeClass(p.chars)}]`;
        break;
      default:
        break;
    }
  }
  const re = new RegExp(`${source}$`, cased ? 'u' : 'iu');
  return (s) => re.test(s);
}

function anyString(value: FieldValue | undefined, event: EventFields, f: StringPredicate): boolean {
  if (value === undefined) return false;
  if (typeof value === 'string') return f(value, event);
  for (const v of value) if (f(v, event)) return true;
  return false;
}

/** Compiles one value test. */
export function compileValueTest(test: ValueTest, mapField: (name: string) => string): ValuePredicate {
  switch (test.kind) {
    case 'pattern': {
      const f = compilePattern(test.pattern, test.cased);
      return (v, e) => anyString(v, e, f);
    }
    case 'regex': {
      const re = new RegExp(test.source, test.flags);
      const f: StringPredicate = (s) => re.test(s);
      return (v, e) => anyString(v, e, f);
    }
    case 'cidr': {
      const f = compileCidr(test.cidr);
      return (v, e) => anyString(v, e, f);
    }
    case 'compare': {
      const { op, value } = test;
      const cmp: (n: number) => boolean =
        op === 'lt'
          ? (n) => n < value
          : op === 'lte'
            ? (n) => n <= value
            : op === 'gt'
              ? (n) => n > value
              : (n) => n >= value;
      return (v, e) =>
        anyString(v, e, (s) => {
          const n = s.trim() === '' ? Number.NaN : Number(s);
          return !Number.isNaN(n) && cmp(n);
        });
    }
    case 'exists':
      return test.exists ? (v) => v !== undefined : (v) => v === undefined;
    case 'null':
      return (v) => v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
    case 'fieldref': {
      const other = mapField(test.field);
      const fold = test.cased ? (s: string) => s : (s: string) => s.toLowerCase();
      const check =
        test.match === 'contains'
          ? (a: string, b: string) => a.includes(b)
          : test.match === 'startswith'
            ? (a: string, b: string) => a.startsWith(b)
            : test.match === 'endswith'
              ? (a: string, b: string) => a.endsWith(b)
              : (a: string, b: string) => a === b;
      return (v, event) => {
        const ref = event.get(other);
        if (ref === undefined || v === undefined) return false;
        const refs = typeof ref === 'string' ? [ref] : ref;
        return anyString(v, event, (s) => refs.some((r) => check(fold(s), fold(r))));
      };
    }
    case 'anyOf': {
      const fs = test.tests.map((t) => compileValueTest(t, mapField));
      return (v, e) => fs.some((f) => f(v, e));
    }
    case 'not': {
      const f = compileValueTest(test.test, mapField);
      return (v, e) => !f(v, e);
    }
    case 'timePart': {
      const f = compileValueTest(test.test, mapField);
      const part = test.part;
      return (v, e) =>
        anyString(v, e, (s) => {
          const n = timePart(s, part);
          return n !== undefined && f(String(n), e);
        });
    }
    default:
      return assertNever(test);
  }
}

/** The numeric part of a timestamp (UTC): minute, hour, day of month, ISO week, month or year. */
export function timePart(text: string, part: TimePart): number | undefined {
  // Windows writes both ISO 8601 and "2019-11-03 13:51:56.380" (Sysmon's UtcTime).
  const ms = Date.parse(/^\d{4}-\d\d-\d\d \d/.test(text) ? `${text.replace(' ', 'T')}Z` : text);
  if (Number.isNaN(ms)) return undefined;
  const d = new Date(ms);
  switch (part) {
    case 'minute':
      return d.getUTCMinutes();
    case 'hour':
      return d.getUTCHours();
    case 'day':
      return d.getUTCDate();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'year':
      return d.getUTCFullYear();
    case 'week': {
      // ISO 8601 week: the week with the year's first Thursday is week 1.
      const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      const day = t.getUTCDay() || 7;
      t.setUTCDate(t.getUTCDate() + 4 - day);
      const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
      return Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
    }
    default:
      return assertNever(part);
  }
}

/** A predicate for `address/prefix`, IPv4 or IPv6. */
export function compileCidr(cidr: string): StringPredicate {
  const [address, prefixText] = cidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const network = parseIp(address);
  if (!network || prefix > network.length * 8) throw new Error(`invalid CIDR ${cidr}`);
  return (s) => {
    const ip = parseIp(s.trim());
    if (!ip || ip.length !== network.length) return false;
    for (let bit = 0; bit < prefix; bit += 8) {
      const mask = prefix - bit >= 8 ? 0xff : (0xff << (8 - (prefix - bit))) & 0xff;
      if (((ip[bit / 8] as number) & mask) !== ((network[bit / 8] as number) & mask)) return false;
    }
    return true;
  };
}

/** IPv4 (4 bytes) or IPv6 (16 bytes, `::` and embedded IPv4 allowed); undefined otherwise. */
export function parseIp(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const s = zone >= 0 ? text.slice(0, zone) : text;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const bytes = s.split('.').map(Number);
    return bytes.every((b) => b <= 255) ? Uint8Array.from(bytes) : undefined;
  }
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIp(g);
        if (!v4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(Number.parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || (halves.length === 2 && missing < 1))
    return undefined;
  const all = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function assertNever(value: never): never {
  throw new Error(`unhandled value test ${JSON.stringify(value)}`);
}
