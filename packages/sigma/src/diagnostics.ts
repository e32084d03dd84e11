// What the Sigma loader reports about rules it could not load, or loaded with a caveat: each
// diagnostic names the file, the line and the feature involved.

export const sigmaDiagnosticCodes = [
  'sigma/yaml',
  'sigma/not-a-rule',
  'sigma/missing-field',
  'sigma/bad-field',
  'sigma/unknown-modifier',
  'sigma/bad-modifier',
  'sigma/bad-value',
  'sigma/bad-condition',
  'sigma/unknown-search',
  'sigma/unsupported',
  'sigma/unknown-placeholder',
  'sigma/bad-correlation',
  'sigma/bad-filter',
  'sigma/bad-pipeline',
  'sigma/unknown-rule-reference',
  'sigma/duplicate-id',
  'sigma/read',
] as const;

export type SigmaDiagnosticCode = (typeof sigmaDiagnosticCodes)[number];

export interface SigmaDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: SigmaDiagnosticCode;
  readonly message: string;
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** The rule's title or id, when known. */
  readonly rule?: string;
}

/** `file:line: error: message [code]`. */
export function formatSigmaDiagnostic(d: SigmaDiagnostic): string {
  return `${d.file}${d.line === undefined ? '' : `:${d.line}`}: ${d.severity}: ${d.rule ? `${d.rule}: ` : ''}${d.message} [${d.code}]`;
}

/** A problem found while reading one rule; the loader turns it into a diagnostic. */
export class SigmaError extends Error {
  readonly code: SigmaDiagnosticCode;
  readonly path: readonly (string | number)[];

  constructor(code: SigmaDiagnosticCode, message: string, path: readonly (string | number)[] = []) {
    super(message);
    this.name = 'SigmaError';
    this.code = code;
    this.path = path;
  }
}
