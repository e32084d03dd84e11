// Diagnostics of the KQL front end and compiler: values with a code, a message and where in the
// query text they apply (offsets plus 1-based line and column).

export const kqlErrorCodes = [
  'kql/syntax',
  'kql/semantic',
  'kql/unsupported',
  'kql/offline',
  'kql/unknown-dialect',
  'kql/runtime',
  'kql/timeout',
  'kql/internal',
] as const;
export type KqlErrorCode = (typeof kqlErrorCodes)[number];

export interface TextSpan {
  /** Offset of the first character. */
  readonly start: number;
  /** Offset after the last character. */
  readonly end: number;
  /** 1-based line of `start`. */
  readonly line: number;
  /** 1-based column of `start`. */
  readonly column: number;
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: KqlErrorCode;
  readonly message: string;
  readonly span?: TextSpan;
}

/** The span of `length` characters at `start` in `text`, with its line and column. */
export function spanAt(text: string, start: number, length: number): TextSpan {
  const at = Math.max(0, Math.min(start, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return {
    start: at,
    end: Math.min(text.length, at + Math.max(0, length)),
    line,
    column: at - lineStart + 1,
  };
}

/** `message (line:column)`, the way the CLI and API print a diagnostic. */
export function formatDiagnostic(d: Diagnostic): string {
  return d.span ? `${d.message} (${d.span.line}:${d.span.column})` : d.message;
}

/**
 * Thrown inside the lowering when a construct cannot be compiled; caught once per query and
 * turned into a diagnostic. Never escapes the package.
 */
export class KqlError extends Error {
  constructor(
    readonly code: KqlErrorCode,
    message: string,
    readonly at?: { readonly start: number; readonly length: number },
  ) {
    super(message);
    this.name = 'KqlError';
  }
}
