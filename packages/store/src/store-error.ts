// The one error class of @palisade/store: a code the server maps to an HTTP status, a message that
// says what was expected and what was found, and the engine's error as `cause`.

export const storeErrorCodes = [
  /** The file is already open in this process (another thread or another store object). */
  'store/already-open',
  /** The store was closed. */
  'store/closed',
  /** A row names no table or has a value of the wrong type; nothing of the batch was stored. */
  'store/bad-row',
  /** A value breaks a rule of the store (unknown enum value, bad time, empty id). */
  'store/invalid',
  /** A unique key is taken (a user name, a sensor fingerprint, an instance created twice). */
  'store/conflict',
  /** A record the call refers to does not exist. */
  'store/not-found',
  /** The engine refused a write (constraint, I/O); the transaction was rolled back. */
  'store/write-failed',
  /** The engine refused a query (syntax, binding, types). */
  'store/query-failed',
  /** The caller's AbortSignal fired; the query was interrupted. */
  'store/aborted',
  /** The database was written by a newer Palisade: its schema version is unknown here. */
  'store/schema-too-new',
  /** A call that would deadlock: the store was used inside its own transaction instead of `tx`. */
  'store/misuse',
] as const;
export type StoreErrorCode = (typeof storeErrorCodes)[number];

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message of an engine error, for wrapping it. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
