// Reading JSON request bodies member by member: every wrong member becomes one issue, and all of
// them are answered together as one 400 naming each by JSON Pointer.
import { type BodyIssue, problemFromBodyIssues } from '../api/problem.ts';
import { failWith, type RouteRequest } from './route.ts';

/** A JSON body read member by member; every wrong member becomes one issue. */
export class BodyReader {
  readonly issues: BodyIssue[] = [];
  readonly fields: Readonly<Record<string, unknown>>;

  constructor(body: unknown, allowed: readonly string[]) {
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    if (!isObject) this.issue([], 'a JSON object', describe(body), 'body/type-mismatch');
    this.fields = isObject ? (body as Record<string, unknown>) : {};
    for (const key of Object.keys(this.fields))
      if (!allowed.includes(key))
        this.issue([key], 'no such member', describe(this.fields[key]), 'body/unknown-field');
  }

  issue(path: readonly (string | number)[], expected: string, found: string, code: string): void {
    this.issues.push({ path: [...path], expected, found, code });
  }

  has(name: string): boolean {
    return this.fields[name] !== undefined;
  }

  /** A string member; a `secret` one (a password) is never echoed in the answer. */
  string(
    name: string,
    options: { required?: boolean; max?: number; secret?: boolean } = {},
  ): string | undefined {
    const value = this.fields[name];
    if (value === undefined) {
      if (options.required === true) this.issue([name], 'a string', 'nothing', 'body/missing-field');
      return undefined;
    }
    const max = options.max ?? 256;
    if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
      this.issue(
        [name],
        `a non-empty string of at most ${max} characters`,
        options.secret === true && typeof value === 'string'
          ? `a string of ${value.length}`
          : describe(value),
        'body/type-mismatch',
      );
      return undefined;
    }
    return value;
  }

  /** A string or `null` (to clear); `undefined` when absent. */
  nullableString(name: string): string | null | undefined {
    return this.fields[name] === null ? null : this.string(name);
  }

  boolean(name: string): boolean | undefined {
    const value = this.fields[name];
    if (value === undefined || typeof value === 'boolean') return value;
    this.issue([name], 'true or false', describe(value), 'body/type-mismatch');
    return undefined;
  }

  oneOf<T extends string>(name: string, values: readonly T[], required = false): T | undefined {
    const value = this.fields[name];
    if (value === undefined && !required) return undefined;
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
    this.issue(
      [name],
      `one of ${values.join(', ')}`,
      describe(value),
      value === undefined ? 'body/missing-field' : 'body/type-mismatch',
    );
    return undefined;
  }

  /** An array of strings, each optionally one of `values`; `undefined` when absent. */
  strings<T extends string = string>(
    name: string,
    options: { values?: readonly T[]; required?: boolean; from?: Readonly<Record<string, unknown>> } = {},
    path: readonly string[] = [name],
  ): T[] | undefined {
    const value = (options.from ?? this.fields)[name];
    if (value === undefined) {
      if (options.required === true) this.issue(path, 'an array of strings', 'nothing', 'body/missing-field');
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.issue(path, 'an array of strings', describe(value), 'body/type-mismatch');
      return undefined;
    }
    let ok = true;
    value.forEach((item, i) => {
      const known = options.values === undefined || (options.values as readonly unknown[]).includes(item);
      if (typeof item !== 'string' || item.trim() === '' || !known) {
        ok = false;
        this.issue(
          [...path, i],
          options.values === undefined ? 'a non-empty string' : `one of ${options.values.join(', ')}`,
          describe(item),
          'body/type-mismatch',
        );
      }
    });
    return ok ? [...new Set(value as T[])] : undefined;
  }

  /** Answers 400 with every issue found so far. */
  check(request: RouteRequest): void {
    if (this.issues.length > 0) failWith(problemFromBodyIssues(this.issues, request.url.pathname));
  }
}

/** A short description of a value for `found`: never a long or secret string. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value);
  return typeof value;
}
