// OData v4 system query options as Microsoft Defender for Endpoint's API accepts them ($filter,
// $top, $skip, $orderby, $expand), read into a typed AST. odata-entity.ts checks the AST against
// an entity set; odata-sql.ts and odata-evaluate.ts run the checked query.

/** The comparison operators of `$filter` (OData v4.01 Part 2 §5.1.1.1). */
export const comparisonOperators = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;
export type ComparisonOperator = (typeof comparisonOperators)[number];

/** The system query options Palisade reads; every other `$` option is refused. */
export const odataOptions = ['$filter', '$top', '$skip', '$orderby', '$expand'] as const;
export type ODataOption = (typeof odataOptions)[number];

/** Bounds that keep parsing and the SQL it becomes small, whatever a client sends. */
export const odataLimits = {
  /** Characters in one option's decoded value. */
  maxOptionLength: 8192,
  /** Nested parentheses in `$filter` (each `not (…)` counts as one). */
  maxDepth: 32,
  /** Errors reported for one query; the rest are dropped. */
  maxErrors: 20,
} as const;

export const odataErrorCodes = [
  'odata/syntax',
  'odata/unknown-option',
  'odata/duplicate-option',
  'odata/unsupported',
  'odata/too-complex',
  'odata/out-of-range',
  'odata/unknown-property',
  'odata/not-filterable',
  'odata/not-sortable',
  'odata/type-mismatch',
  'odata/bad-value',
] as const;
export type ODataErrorCode = (typeof odataErrorCodes)[number];

export interface ODataErrorDetails {
  readonly code: ODataErrorCode;
  /** The query option, e.g. `$filter`. */
  readonly option: string;
  /** 0-based character offset in the option's decoded value (0 for the option as a whole). */
  readonly offset: number;
  readonly expected: string;
  readonly found: string;
}

/**
 * Why a query option was refused: `$filter at 17: expected a comparison operator, found 'xx'`.
 * The server answers it as problem+json (problem.ts).
 */
export class ODataError extends Error {
  readonly code: ODataErrorCode;
  readonly option: string;
  readonly offset: number;
  readonly expected: string;
  readonly found: string;

  constructor(details: ODataErrorDetails) {
    super(`${details.option} at ${details.offset}: expected ${details.expected}, found ${details.found}`);
    this.name = 'ODataError';
    this.code = details.code;
    this.option = details.option;
    this.offset = details.offset;
    this.expected = details.expected;
    this.found = details.found;
  }
}

/** A parsed or validated value, or every error found. */
export type ODataResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly ODataError[] };

/** A literal as written; `offset` is where it starts in the option value. */
export type Literal =
  | { readonly kind: 'string'; readonly value: string; readonly offset: number }
  | { readonly kind: 'number'; readonly value: number; readonly offset: number }
  | { readonly kind: 'boolean'; readonly value: boolean; readonly offset: number }
  | { readonly kind: 'null'; readonly offset: number }
  /** `value` is normalised to `Date.prototype.toISOString()` form (UTC, milliseconds). */
  | { readonly kind: 'datetime'; readonly value: string; readonly offset: number }
  /** `value` is lower-case. */
  | { readonly kind: 'guid'; readonly value: string; readonly offset: number };

export interface PropertyRef {
  readonly name: string;
  readonly offset: number;
}

/** `$filter` as a tree. A literal written on the left is moved right with the operator mirrored. */
export type FilterNode =
  | {
      readonly kind: 'compare';
      readonly op: ComparisonOperator;
      readonly property: PropertyRef;
      readonly value: Literal;
      /** Where the operator is. */
      readonly offset: number;
    }
  | { readonly kind: 'in'; readonly property: PropertyRef; readonly values: readonly Literal[] }
  | { readonly kind: 'and'; readonly items: readonly FilterNode[] }
  | { readonly kind: 'or'; readonly items: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly item: FilterNode };

export interface OrderByItem {
  readonly property: PropertyRef;
  readonly direction: 'asc' | 'desc';
}

/** The query options of one request, before they are checked against an entity set. */
export interface ODataQuery {
  readonly filter?: FilterNode;
  readonly top?: number;
  readonly skip?: number;
  readonly orderBy: readonly OrderByItem[];
  readonly expand: readonly PropertyRef[];
}

/** OData options that exist but that Palisade, like MDE's API, does not offer. */
const unsupportedOptions = new Set([
  '$select',
  '$count',
  '$search',
  '$format',
  '$apply',
  '$compute',
  '$skiptoken',
  '$deltatoken',
  '$index',
  '$levels',
  '$schemaversion',
  '$id',
]);

/**
 * Reads the `$` options of a query string (already percent-decoded, as `URLSearchParams` gives
 * them); options without `$` are left to the route. Option names are matched case-insensitively.
 * @example parseODataQuery(new URLSearchParams('$filter=lastUpdateTime+ge+2019-11-22T00:00:00Z&$top=10'))
 */
export function parseODataQuery(params: Iterable<readonly [string, string]>): ODataResult<ODataQuery> {
  const errors: ODataError[] = [];
  const seen = new Set<string>();
  let filter: FilterNode | undefined;
  let top: number | undefined;
  let skip: number | undefined;
  let orderBy: readonly OrderByItem[] = [];
  let expand: readonly PropertyRef[] = [];
  for (const [rawName, value] of params) {
    if (!rawName.startsWith('$')) continue;
    const name = rawName.toLowerCase();
    try {
      if (seen.has(name)) {
        throw new ODataError({
          code: 'odata/duplicate-option',
          option: name,
          offset: 0,
          expected: `${name} at most once`,
          found: 'it again',
        });
      }
      seen.add(name);
      if (value.length > odataLimits.maxOptionLength) {
        throw new ODataError({
          code: 'odata/too-complex',
          option: name,
          offset: odataLimits.maxOptionLength,
          expected: `at most ${odataLimits.maxOptionLength} characters`,
          found: `${value.length} characters`,
        });
      }
      switch (name) {
        case '$filter':
          filter = readFilter(value);
          break;
        case '$top':
          top = readCount(name, value);
          break;
        case '$skip':
          skip = readCount(name, value);
          break;
        case '$orderby':
          orderBy = readOrderBy(value);
          break;
        case '$expand':
          expand = readExpand(value);
          break;
        default:
          throw new ODataError({
            code: unsupportedOptions.has(name) ? 'odata/unsupported' : 'odata/unknown-option',
            option: name,
            offset: 0,
            expected: `one of the options ${odataOptions.join(', ')}`,
            found: unsupportedOptions.has(name)
              ? `'${name}', which this API does not support`
              : `'${rawName}'`,
          });
      }
    } catch (error) {
      if (!(error instanceof ODataError)) throw error;
      errors.push(error);
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      ...(filter === undefined ? {} : { filter }),
      ...(top === undefined ? {} : { top }),
      ...(skip === undefined ? {} : { skip }),
      orderBy,
      expand,
    },
  };
}

/** Parses one `$filter` value. */
export function parseFilter(text: string): ODataResult<FilterNode> {
  const result = parseODataQuery([['$filter', text]]);
  if (!result.ok) return result;
  const { filter } = result.value;
  // The option is present, so a successful parse always has a filter.
  if (filter === undefined) throw new Error('parseFilter: a parsed $filter has no tree');
  return { ok: true, value: filter };
}

// ---------------------------------------------------------------------------------------------
// Tokens

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly text: string; readonly at: number }
  | { readonly kind: '(' | ')' | ','; readonly text: string; readonly at: number }
  | { readonly kind: 'end'; readonly text: ''; readonly at: number };

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isDelimiter(c: string | undefined): boolean {
  return isSpace(c) || c === '(' || c === ')' || c === ',' || c === "'";
}

/**
 * Splits an option value into words (names, keywords, numbers, datetimes, GUIDs), quoted
 * strings and punctuation. What a word is gets decided by the parser, which knows the context.
 */
function tokenize(option: string, text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (isSpace(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, at: i });
      i++;
    } else if (c === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        const quote = text.indexOf("'", i);
        if (quote < 0) {
          throw new ODataError({
            code: 'odata/syntax',
            option,
            offset: text.length,
            expected: `' to close the string that starts at ${start} (a quote inside a string is written '')`,
            found: 'end of input',
          });
        }
        value += text.slice(i, quote);
        i = quote + 1;
        // OData escapes a quote inside a string by doubling it.
        if (text[i] !== "'") break;
        value += "'";
        i++;
      }
      tokens.push({ kind: 'string', value, text: text.slice(start, i), at: start });
    } else {
      const start = i;
      while (i < text.length && !isDelimiter(text[i])) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), at: start });
    }
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}

function describeToken(token: Token): string {
  if (token.kind === 'end') return 'end of input';
  if (token.kind === 'string') return shorten(token.text);
  return `'${shorten(token.text)}'`;
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

class TokenCursor {
  readonly option: string;
  private readonly tokens: readonly Token[];
  private readonly end: Token;
  private index = 0;

  constructor(option: string, text: string) {
    this.option = option;
    this.tokens = tokenize(option, text);
    this.end = { kind: 'end', text: '', at: text.length };
  }

  peek(): Token {
    return this.tokens[this.index] ?? this.end;
  }

  take(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  /** Whether the next token is the word `word`; takes it when it is. */
  takeWord(word: string): boolean {
    const token = this.peek();
    if (token.kind !== 'word' || token.text !== word) return false;
    this.index++;
    return true;
  }

  fail(
    token: Token,
    expected: string,
    code: ODataErrorCode = 'odata/syntax',
    found = describeToken(token),
  ): never {
    throw new ODataError({ code, option: this.option, offset: token.at, expected, found });
  }
}

// ---------------------------------------------------------------------------------------------
// $filter: or < and < not < comparison, as in OData's operator precedence (Part 2 §5.1.1.15).

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const pathPattern = /^[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)+$/;
const numberPattern = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const integerPattern = /^-?[0-9]+$/;
const guidPattern = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const datePrefixPattern = /^[0-9]{4}-[0-9]{2}-[0-9]{2}/;
// OData's dateTimeOffsetValue, plus what MDE's examples show: a bare date (`2018-08-01Z`) and
// no offset at all, both read as UTC.
const dateTimePattern =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$/;

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the range with four-digit years. */
const minTime = -62_167_219_200_000;
const maxTime = 253_402_300_799_999;

const keywords = new Set<string>(['and', 'or', 'not', 'in', ...comparisonOperators]);
const operatorList = 'a comparison operator (eq, ne, gt, ge, lt, le or in)';

const mirrored: Record<ComparisonOperator, ComparisonOperator> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'lt',
  ge: 'le',
  lt: 'gt',
  le: 'ge',
};

type Operand =
  | { readonly kind: 'property'; readonly ref: PropertyRef }
  | { readonly kind: 'literal'; readonly literal: Literal };

function readFilter(text: string): FilterNode {
  const cursor = new TokenCursor('$filter', text);
  const parser = new FilterParser(cursor);
  const node = parser.or();
  const next = cursor.peek();
  if (next.kind !== 'end') cursor.fail(next, "'and', 'or' or end of input");
  return node;
}

class FilterParser {
  private readonly cursor: TokenCursor;
  private depth = 0;

  constructor(cursor: TokenCursor) {
    this.cursor = cursor;
  }

  or(): FilterNode {
    const first = this.and();
    if (!this.cursor.takeWord('or')) return first;
    const items = [first, this.and()];
    while (this.cursor.takeWord('or')) items.push(this.and());
    return { kind: 'or', items };
  }

  private and(): FilterNode {
    const first = this.unary();
    if (!this.cursor.takeWord('and')) return first;
    const items = [first, this.unary()];
    while (this.cursor.takeWord('and')) items.push(this.unary());
    return { kind: 'and', items };
  }

  private unary(): FilterNode {
    const token = this.cursor.peek();
    if (token.kind === '(') return this.group();
    if (this.cursor.takeWord('not')) {
      // OData gives `not` a higher precedence than `eq`, so `not a eq 1` would negate `a`, not
      // the comparison; asking for parentheses keeps the meaning unambiguous.
      const open = this.cursor.peek();
      if (open.kind !== '(') this.cursor.fail(open, "'(' after 'not'");
      return { kind: 'not', item: this.group() };
    }
    return this.comparison();
  }

  private group(): FilterNode {
    const open = this.cursor.take();
    if (++this.depth > odataLimits.maxDepth) {
      this.cursor.fail(open, `at most ${odataLimits.maxDepth} nested parentheses`, 'odata/too-complex');
    }
    const node = this.or();
    const close = this.cursor.peek();
    if (close.kind !== ')') this.cursor.fail(close, "'and', 'or' or ')'");
    this.cursor.take();
    this.depth--;
    return node;
  }

  private comparison(): FilterNode {
    const leftToken = this.cursor.peek();
    const left = this.operand("a property, a literal, 'not' or '('");
    const opToken = this.cursor.peek();
    if (opToken.kind === 'word' && opToken.text === 'in') {
      if (left.kind !== 'property') {
        this.cursor.fail(leftToken, "a property before 'in'", 'odata/syntax', describeLiteral(left.literal));
      }
      this.cursor.take();
      return { kind: 'in', property: left.ref, values: this.literalList() };
    }
    const op = opToken.kind === 'word' ? comparisonOperators.find((o) => o === opToken.text) : undefined;
    if (op === undefined) {
      const upper = opToken.kind === 'word' && keywords.has(opToken.text.toLowerCase());
      this.cursor.fail(opToken, upper ? `${operatorList}; operators are lower-case` : operatorList);
    }
    this.cursor.take();
    const rightToken = this.cursor.peek();
    const right = this.operand('a property or a literal');
    if (left.kind === 'property' && right.kind === 'literal') {
      return { kind: 'compare', op, property: left.ref, value: right.literal, offset: opToken.at };
    }
    if (left.kind === 'literal' && right.kind === 'property') {
      return {
        kind: 'compare',
        op: mirrored[op],
        property: right.ref,
        value: left.literal,
        offset: opToken.at,
      };
    }
    if (right.kind === 'property') {
      this.cursor.fail(
        rightToken,
        'a literal (comparing two properties is not supported)',
        'odata/unsupported',
        `property '${right.ref.name}'`,
      );
    }
    return this.cursor.fail(
      leftToken,
      'a property on one side of the comparison',
      'odata/syntax',
      describeLiteral(left.kind === 'literal' ? left.literal : right.literal),
    );
  }

  private literalList(): Literal[] {
    const open = this.cursor.peek();
    if (open.kind !== '(') this.cursor.fail(open, "'(' after 'in'");
    this.cursor.take();
    const values: Literal[] = [];
    for (;;) {
      const token = this.cursor.peek();
      const operand = this.operand('a literal');
      if (operand.kind !== 'literal') {
        this.cursor.fail(token, 'a literal', 'odata/syntax', `property '${operand.ref.name}'`);
      }
      values.push(operand.literal);
      const separator = this.cursor.take();
      if (separator.kind === ')') return values;
      if (separator.kind !== ',') this.cursor.fail(separator, "',' or ')'");
    }
  }

  private operand(expected: string): Operand {
    const token = this.cursor.take();
    if (token.kind === 'string') {
      return { kind: 'literal', literal: { kind: 'string', value: token.value, offset: token.at } };
    }
    if (token.kind !== 'word') return this.cursor.fail(token, expected);
    const text = token.text;
    const at = token.at;
    if (text === 'true' || text === 'false') {
      return { kind: 'literal', literal: { kind: 'boolean', value: text === 'true', offset: at } };
    }
    if (text === 'null') return { kind: 'literal', literal: { kind: 'null', offset: at } };
    if (guidPattern.test(text)) {
      return { kind: 'literal', literal: { kind: 'guid', value: text.toLowerCase(), offset: at } };
    }
    if (datePrefixPattern.test(text)) {
      return { kind: 'literal', literal: { kind: 'datetime', value: this.dateTime(token), offset: at } };
    }
    if (numberPattern.test(text)) {
      const value = Number(text);
      const inRange = integerPattern.test(text) ? Number.isSafeInteger(value) : Number.isFinite(value);
      if (!inRange) {
        this.cursor.fail(
          token,
          'a number between -2^53 and 2^53 (for integers) or a finite number',
          'odata/out-of-range',
        );
      }
      return { kind: 'literal', literal: { kind: 'number', value, offset: at } };
    }
    if (identifierPattern.test(text) && !keywords.has(text)) {
      if (this.cursor.peek().kind === '(') {
        this.cursor.fail(
          token,
          expected,
          'odata/unsupported',
          `'${shorten(text)}(', a function, which this API does not support`,
        );
      }
      return { kind: 'property', ref: { name: text, offset: at } };
    }
    if (pathPattern.test(text)) {
      this.cursor.fail(
        token,
        'a property of the entity itself',
        'odata/unsupported',
        `'${shorten(text)}': property paths and any()/all() are not supported`,
      );
    }
    return this.cursor.fail(token, expected);
  }

  /** Reads an ISO 8601 datetime and returns it as UTC with milliseconds. */
  private dateTime(token: Token): string {
    const match = dateTimePattern.exec(token.text);
    if (match === null) {
      this.cursor.fail(token, 'an ISO 8601 datetime such as 2019-11-22T00:00:00Z');
    }
    const [, year, month, day, hour, minute, second, fraction, zone] = match;
    if (zone === undefined && hour !== undefined) {
      // A '+' in a query string decodes to a space, so `…T10:00:00+02:00` arrives as two words.
      const next = this.cursor.peek();
      if (next.kind === 'word' && /^[0-9]{2}:[0-9]{2}$/.test(next.text)) {
        this.cursor.fail(
          next,
          `'and', 'or' or end of input (a '+' in a URL means a space: write +${next.text} as %2B${next.text})`,
        );
      }
    }
    const fields = {
      year: Number(year),
      month: Number(month),
      day: Number(day),
      hour: Number(hour ?? 0),
      minute: Number(minute ?? 0),
      second: Number(second ?? 0),
      // Palisade keeps milliseconds; finer digits (MDE writes seven) are cut off.
      millisecond: Number((fraction ?? '').slice(0, 3).padEnd(3, '0')),
    };
    const offsetMinutes =
      zone === undefined || zone === 'Z'
        ? 0
        : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    const date = new Date(0);
    date.setUTCFullYear(fields.year, fields.month - 1, fields.day);
    date.setUTCHours(fields.hour, fields.minute, fields.second, fields.millisecond);
    const valid =
      date.getUTCFullYear() === fields.year &&
      date.getUTCMonth() === fields.month - 1 &&
      date.getUTCDate() === fields.day &&
      fields.hour < 24 &&
      fields.minute < 60 &&
      fields.second < 60 &&
      Math.abs(offsetMinutes) < 24 * 60 &&
      Number(zone?.slice(4, 6) ?? 0) < 60;
    const time = date.getTime() - offsetMinutes * 60_000;
    if (!valid || time < minTime || time > maxTime) {
      this.cursor.fail(token, 'a valid date and time between years 0000 and 9999', 'odata/out-of-range');
    }
    return new Date(time).toISOString();
  }
}

// ---------------------------------------------------------------------------------------------
// $top, $skip, $orderby, $expand

function readCount(option: string, text: string): number {
  const bad = text.search(/[^0-9]/);
  if (text.length === 0 || bad >= 0) {
    throw new ODataError({
      code: 'odata/syntax',
      option,
      offset: Math.max(bad, 0),
      expected: 'a non-negative integer',
      found: bad >= 0 ? `'${shorten(text.slice(bad))}'` : 'end of input',
    });
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new ODataError({
      code: 'odata/out-of-range',
      option,
      offset: 0,
      expected: 'an integer below 2^53',
      found: `'${shorten(text)}'`,
    });
  }
  return value;
}

/** A plain property name; paths and function calls are named as unsupported. */
function readPropertyName(cursor: TokenCursor, what: string): PropertyRef {
  const token = cursor.take();
  if (token.kind === 'word' && identifierPattern.test(token.text) && !keywords.has(token.text)) {
    if (cursor.peek().kind === '(') {
      cursor.fail(
        token,
        what,
        'odata/unsupported',
        `'${shorten(token.text)}(', which this API does not support`,
      );
    }
    return { name: token.text, offset: token.at };
  }
  if (token.kind === 'word' && pathPattern.test(token.text)) {
    cursor.fail(
      token,
      what,
      'odata/unsupported',
      `'${shorten(token.text)}': property paths are not supported`,
    );
  }
  return cursor.fail(token, what);
}

function readOrderBy(text: string): OrderByItem[] {
  const cursor = new TokenCursor('$orderby', text);
  const items: OrderByItem[] = [];
  for (;;) {
    const property = readPropertyName(cursor, 'a property name');
    const direction = cursor.takeWord('desc') ? 'desc' : 'asc';
    const directed = direction === 'desc' || cursor.takeWord('asc');
    items.push({ property, direction });
    const separator = cursor.take();
    if (separator.kind === 'end') return items;
    if (separator.kind !== ',')
      cursor.fail(separator, directed ? "',' or end of input" : "asc, desc, ',' or end of input");
  }
}

function readExpand(text: string): PropertyRef[] {
  const cursor = new TokenCursor('$expand', text);
  const items: PropertyRef[] = [];
  for (;;) {
    items.push(readPropertyName(cursor, 'a navigation property name'));
    const separator = cursor.take();
    if (separator.kind === 'end') return items;
    if (separator.kind !== ',') cursor.fail(separator, "',' or end of input");
  }
}

// ---------------------------------------------------------------------------------------------
// Writing a tree back as text

/** The literal as OData text: `'it''s'`, `42`, `2019-11-22T00:00:00.000Z`, `null`. */
export function formatLiteral(literal: Literal): string {
  switch (literal.kind) {
    case 'string':
      return `'${literal.value.replaceAll("'", "''")}'`;
    case 'number':
      return Object.is(literal.value, -0) ? '-0' : String(literal.value);
    case 'boolean':
      return String(literal.value);
    case 'null':
      return 'null';
    case 'datetime':
    case 'guid':
      return literal.value;
    default:
      return assertNever(literal);
  }
}

/** "string 'abc'", "number 5": a literal named for an error message. */
export function describeLiteral(literal: Literal): string {
  return literal.kind === 'null' ? 'null' : `${literal.kind} ${shorten(formatLiteral(literal))}`;
}

/**
 * Writes a filter tree as `$filter` text that parses back to the same tree (offsets aside);
 * every `and`/`or` operand is parenthesised so precedence is visible.
 */
export function formatFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      return `${node.property.name} ${node.op} ${formatLiteral(node.value)}`;
    case 'in':
      return `${node.property.name} in (${node.values.map(formatLiteral).join(', ')})`;
    case 'and':
    case 'or':
      return node.items.map((item) => `(${formatFilter(item)})`).join(` ${node.kind} `);
    case 'not':
      return `not (${formatFilter(node.item)})`;
    default:
      return assertNever(node);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
