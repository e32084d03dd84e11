// The one error that decoders throw deep inside a structure; the loop over records, packets
// or rules catches it and turns it into a diagnostic for that unit.

/** Where in the input a decoder failed, what it expected and what it found. */
export interface ParseErrorDetails<Code extends string = string> {
  readonly code: Code;
  readonly offset: number;
  readonly field: string;
  readonly expected: string;
  readonly found: string;
  readonly cause?: unknown;
}

/**
 * A decoding failure at a known offset.
 * @example throw new ParseError({ code: 'evtx/bad-chunk-magic', offset: 0x11000, field: 'chunk magic',
 *   expected: 'ElfChnk', found: '00 00 00 00' })
 */
export class ParseError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly offset: number;
  readonly field: string;
  readonly expected: string;
  readonly found: string;

  constructor(details: ParseErrorDetails<Code>) {
    super(
      `${details.field}: expected ${details.expected}, found ${details.found} at ${formatOffset(details.offset)}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'ParseError';
    this.code = details.code;
    this.offset = details.offset;
    this.field = details.field;
    this.expected = details.expected;
    this.found = details.found;
  }
}

/** Offsets are printed in hex, as hex editors show them. */
export function formatOffset(offset: number): string {
  return `0x${offset.toString(16)}`;
}

/** The first bytes of a region as space-separated hex, for "found …" messages. */
export function hexPreview(bytes: Uint8Array, start: number, length: number): string {
  const end = Math.min(bytes.length, start + length);
  if (start >= end) return '<end of data>';
  const parts: string[] = [];
  for (let i = start; i < end; i++) parts.push((bytes[i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(' ');
}
