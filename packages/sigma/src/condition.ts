// The detection condition language: `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`,
// `1 of them`, `all of them`, with the specification's precedence (or < and < not < of).
import { SigmaError } from './diagnostics.ts';
import type { Condition } from './rule.ts';

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'open'; at: number }
  | { kind: 'close'; at: number }
  | { kind: 'pipe'; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|(\|)|([^\s()|]+))/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < text.length && (m = re.exec(text))) {
    const start = m.index + (m[0].length - (m[1] ?? m[2] ?? m[3] ?? m[4] ?? '').length);
    if (m[1]) tokens.push({ kind: 'open', at: start });
    else if (m[2]) tokens.push({ kind: 'close', at: start });
    else if (m[3]) tokens.push({ kind: 'pipe', at: start });
    else if (m[4]) tokens.push({ kind: 'word', text: m[4], at: start });
    at = re.lastIndex;
  }
  if (text.slice(at).trim() !== '')
    throw new SigmaError('sigma/bad-condition', `cannot read condition at column ${at + 1}`);
  return tokens;
}

/** Whether a search identifier matches an `x of` pattern (`*` wildcards anywhere). */
function matchesIdentifierPattern(name: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(name);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Parses a condition against the rule's search identifiers. Unknown identifiers, patterns
 * that select nothing and the old `| count()` aggregations are errors naming the column.
 */
export function parseCondition(text: string, searchNames: readonly string[]): Condition {
  const tokens = tokenize(text);
  let i = 0;
  const peekWord = (): string | undefined => {
    const t = tokens[i];
    return t?.kind === 'word' ? t.text.toLowerCase() : undefined;
  };
  const fail = (message: string, at?: number): never => {
    throw new SigmaError(
      'sigma/bad-condition',
      `${message}${at === undefined ? ' at the end' : ` at column ${at + 1}`} of condition '${text}'`,
    );
  };
  const aggregation = (at: number): never =>
    fail("aggregation after '|' is not supported; write a correlation rule instead", at);

  const parseOr = (): Condition => {
    const items = [parseAnd()];
    while (peekWord() === 'or') {
      i++;
      items.push(parseAnd());
    }
    return items.length === 1 ? (items[0] as Condition) : { kind: 'or', items };
  };
  const parseAnd = (): Condition => {
    const items = [parseNot()];
    while (peekWord() === 'and') {
      i++;
      items.push(parseNot());
    }
    return items.length === 1 ? (items[0] as Condition) : { kind: 'and', items };
  };
  const parseNot = (): Condition => {
    if (peekWord() === 'not') {
      i++;
      return { kind: 'not', item: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): Condition => {
    const t = tokens[i];
    if (!t) return fail('expected a search identifier');
    if (t.kind === 'open') {
      i++;
      const inner = parseOr();
      const close = tokens[i];
      if (close?.kind !== 'close') return fail("expected ')'", close?.at);
      i++;
      return inner;
    }
    if (t.kind === 'pipe') return aggregation(t.at);
    if (t.kind === 'close') return fail("unexpected ')'", t.at);
    const word = t.text.toLowerCase();
    if (word === 'and' || word === 'or') return fail(`unexpected '${t.text}'`, t.at);
    const next = tokens[i + 1];
    if (
      (word === '1' || word === 'all' || word === 'any') &&
      next?.kind === 'word' &&
      next.text.toLowerCase() === 'of'
    ) {
      const target = tokens[i + 2];
      if (target?.kind !== 'word')
        return fail(`expected 'them' or an identifier pattern after '${t.text} of'`, target?.at);
      i += 3;
      const quantifier = word === 'all' ? 'all' : 'any';
      if (target.text.toLowerCase() === 'them') {
        // `them` excludes identifiers starting with an underscore, by convention.
        const names = searchNames.filter((n) => !n.startsWith('_'));
        if (names.length === 0)
          return fail(`'them' selects nothing: every search identifier starts with '_'`, target.at);
        return { kind: 'of', quantifier, names };
      }
      const names = searchNames.filter((n) => matchesIdentifierPattern(n, target.text));
      if (names.length === 0) return fail(`pattern '${target.text}' matches no search identifier`, target.at);
      return { kind: 'of', quantifier, names };
    }
    if (!searchNames.includes(t.text)) {
      throw new SigmaError(
        'sigma/unknown-search',
        `condition names '${t.text}' (column ${t.at + 1}), which is not a search identifier of this rule`,
      );
    }
    i++;
    return { kind: 'search', name: t.text };
  };

  const result = parseOr();
  const rest = tokens[i];
  // `selection | count() > 5`, the old aggregation syntax, follows a whole expression.
  if (rest?.kind === 'pipe') aggregation(rest.at);
  if (rest)
    fail(
      `unexpected '${rest.kind === 'word' ? rest.text : rest.kind === 'open' ? '(' : rest.kind === 'close' ? ')' : '|'}'`,
      rest.at,
    );
  return result;
}
