// Input checks every state store makes before writing, so SQLite and PostgreSQL refuse the same
// values with the same `store/invalid` message (the databases' own constraints are a backstop).

import type { PageOptions } from './state-store.ts';
import { StoreError } from './store-error.ts';

/** The value if it is one of `allowed`, else `store/invalid` naming the field and the choices. */
export function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new StoreError(
    'store/invalid',
    `${field} must be one of ${allowed.join(', ')}, found ${JSON.stringify(value)}`,
  );
}

/** A time as ISO 8601 UTC with milliseconds (the form stored and compared), or `store/invalid`. */
export function isoTime(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new StoreError(
      'store/invalid',
      `${field} must be an ISO 8601 time, found ${JSON.stringify(value)}`,
    );
  }
  return new Date(ms).toISOString();
}

/** Text that is not empty, or `store/invalid`. */
export function required(value: string, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new StoreError(
      'store/invalid',
      `${field} must be a non-empty text, found ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export const DEFAULT_TOP = 100;
export const MAX_TOP = 10_000;

/** LIMIT and OFFSET for a page: `top` defaults to 100 and is capped at 10,000, as MDE's `$top`. */
export function pageOf(options: PageOptions | undefined): { limit: number; offset: number } {
  const top = options?.top ?? DEFAULT_TOP;
  const skip = options?.skip ?? 0;
  if (!Number.isInteger(top) || top < 0 || !Number.isInteger(skip) || skip < 0) {
    throw new StoreError('store/invalid', `top and skip must be whole numbers ≥ 0, found ${top} and ${skip}`);
  }
  return { limit: Math.min(top, MAX_TOP), offset: skip };
}
