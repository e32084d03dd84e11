// Sigma string values as patterns: literal text with `*` and `?` wildcards, backslash escapes
// as the specification defines them, and character classes (from `windash`).

export type PatternPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'one' }
  | { readonly kind: 'class'; readonly chars: string };

export type Pattern = readonly PatternPart[];

/**
 * Parses a Sigma string: `*` and `?` are wildcards; `\*`, `\?` and `\\` escape them (a
 * backslash before anything else is a plain backslash).
 */
export function parsePattern(value: string): Pattern {
  const parts: PatternPart[] = [];
  let text = '';
  const flush = () => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') {
      const next = value[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        text += next;
        i++;
      } else text += c;
    } else if (c === '*') {
      flush();
      if (parts[parts.length - 1]?.kind !== 'any') parts.push({ kind: 'any' });
    } else if (c === '?') {
      flush();
      parts.push({ kind: 'one' });
    } else text += c;
  }
  flush();
  return parts;
}

/** A pattern matching exactly `text`. */
export function literalPattern(text: string): Pattern {
  return text === '' ? [] : [{ kind: 'text', text }];
}

/** True when the pattern has no wildcards or classes. */
export function isLiteral(pattern: Pattern): boolean {
  return pattern.every((p) => p.kind === 'text');
}

/** The literal text of a wildcard-free pattern. */
export function patternText(pattern: Pattern): string {
  return pattern.map((p) => (p.kind === 'text' ? p.text : '')).join('');
}

/** Adds leading and/or trailing `*`, as contains, startswith and endswith do. */
export function wrapPattern(pattern: Pattern, leading: boolean, trailing: boolean): Pattern {
  const parts = [...pattern];
  if (leading && parts[0]?.kind !== 'any') parts.unshift({ kind: 'any' });
  if (trailing && parts[parts.length - 1]?.kind !== 'any') parts.push({ kind: 'any' });
  return parts;
}

/** Maps every text part through `f`, leaving wildcards alone. */
export function mapText(pattern: Pattern, f: (text: string) => Pattern): Pattern {
  const out: PatternPart[] = [];
  for (const part of pattern) {
    if (part.kind === 'text') out.push(...f(part.text));
    else out.push(part);
  }
  return out;
}

/** The pattern back in Sigma's notation, for messages and tests. */
export function formatPattern(pattern: Pattern): string {
  return pattern
    .map((p) => {
      switch (p.kind) {
        case 'text':
          return p.text.replace(/[\\*?]/g, (c) => `\\${c}`);
        case 'any':
          return '*';
        case 'one':
          return '?';
        case 'class':
          return `[${p.chars}]`;
        default:
          return '';
      }
    })
    .join('');
}
