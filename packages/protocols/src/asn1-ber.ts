// A small BER/DER reader (X.690 §8) for the authentication protocols: identifier and length
// octets, the universal types Kerberos, SPNEGO and LDAP use, and [n] EXPLICIT/IMPLICIT fields.
// Every element must lie inside its parent, nesting is depth-limited, and bad bytes throw ParseError.
import { ByteReader, hexPreview, ParseError } from '@palisade/binary';

/** Error codes of the BER reader. */
export const asn1ErrorCodes = [
  'asn1/truncated',
  'asn1/bad-tag',
  'asn1/bad-length',
  'asn1/indefinite-length',
  'asn1/too-deep',
  'asn1/unexpected-tag',
  'asn1/bad-value',
] as const;

export type Asn1ErrorCode = (typeof asn1ErrorCodes)[number];

/** The two bits of class in an identifier octet, in order (X.690 §8.1.2.2). */
export const tagClasses = ['universal', 'application', 'context', 'private'] as const;

export type TagClass = (typeof tagClasses)[number];

/** Universal tag numbers (X.680 §8.6) of the types Kerberos, SPNEGO and LDAP are built from. */
export const universalTags = {
  boolean: 1,
  integer: 2,
  bitString: 3,
  octetString: 4,
  null: 5,
  objectIdentifier: 6,
  enumerated: 10,
  utf8String: 12,
  sequence: 16,
  set: 17,
  printableString: 19,
  ia5String: 22,
  generalizedTime: 24,
  generalString: 27,
} as const;

/** One TLV: where its identifier, content and end are in the reader's bytes, and how deep it is. */
export interface BerElement {
  readonly tagClass: TagClass;
  readonly constructed: boolean;
  readonly tagNumber: number;
  /** Offset of the identifier octet. */
  readonly offset: number;
  readonly contentOffset: number;
  /** Content length in bytes. */
  readonly length: number;
  /** Offset just past the content. */
  readonly end: number;
  /** 0 for an outermost element, one more for each enclosing element. */
  readonly depth: number;
}

/** What `peekElementSize` found at the start of a buffer that may hold only part of an element. */
export type ElementSize =
  | { readonly kind: 'complete-header'; readonly headerLength: number; readonly totalLength: number }
  | { readonly kind: 'need-more' };

/** Deepest nesting accepted by default: Kerberos needs about 10, LDAP filters a few more. */
export const DEFAULT_MAX_DEPTH = 32;
/** Identifier octets beyond this many are refused; tag numbers above 2^28 occur in no protocol here. */
const MAX_TAG_OCTETS = 5;
/** Long-form length octets beyond this many (lengths ≥ 4 GiB) are refused. */
const MAX_LENGTH_OCTETS = 4;

const utf8 = new TextDecoder('utf-8');

function asn1Error(
  reader: ByteReader,
  code: Asn1ErrorCode,
  offset: number,
  field: string,
  expected: string,
  found: string,
): ParseError<Asn1ErrorCode> {
  return new ParseError<Asn1ErrorCode>({ code, offset: reader.base + offset, field, expected, found });
}

function describeTag(el: BerElement): string {
  const kind = el.constructed ? 'constructed' : 'primitive';
  if (el.tagClass === 'context') return `[${el.tagNumber}] ${kind}`;
  if (el.tagClass === 'application') return `[APPLICATION ${el.tagNumber}] ${kind}`;
  return `${el.tagClass} ${el.tagNumber} ${kind}`;
}

/**
 * Reads BER elements from a byte array (DER is a subset). Offsets are relative to the array;
 * `base` is added in error messages so they name the position in the whole packet or stream.
 * @example const ber = new BerReader(bytes); const root = ber.root('LDAPMessage');
 */
export class BerReader {
  readonly reader: ByteReader;
  readonly maxDepth: number;

  constructor(bytes: Uint8Array, base = 0, maxDepth = DEFAULT_MAX_DEPTH) {
    this.reader = new ByteReader(bytes, base);
    this.maxDepth = maxDepth;
  }

  get bytes(): Uint8Array {
    return this.reader.bytes;
  }

  /** The element at offset 0, which must fit in the bytes (trailing bytes are allowed). */
  root(field: string): BerElement {
    return this.element(0, this.reader.length, 0, field);
  }

  /** The element whose identifier octet is at `offset`; its content must end by `limit`. */
  element(offset: number, limit: number, depth: number, field: string): BerElement {
    const r = this.reader;
    if (depth > this.maxDepth)
      throw asn1Error(r, 'asn1/too-deep', offset, field, `at most ${this.maxDepth} levels`, `${depth}`);
    const end = Math.min(limit, r.length);
    const octet = (at: number, part: string): number => {
      if (at >= end)
        throw asn1Error(
          r,
          'asn1/truncated',
          at,
          `${field} ${part}`,
          '1 more byte',
          'the end of the enclosing data',
        );
      return r.bytes[at] as number;
    };
    const first = octet(offset, 'tag');
    const tagClass = tagClasses[first >> 6] as TagClass;
    const constructed = (first & 0x20) !== 0;
    let tagNumber = first & 0x1f;
    let p = offset + 1;
    if (tagNumber === 0x1f) {
      // High-tag-number form (X.690 §8.1.2.4): base-128 digits, the last without bit 8.
      tagNumber = 0;
      for (let i = 0; ; i++) {
        if (i === MAX_TAG_OCTETS - 1)
          throw asn1Error(
            r,
            'asn1/bad-tag',
            offset,
            field,
            `a tag number in at most ${MAX_TAG_OCTETS - 1} octets`,
            hexPreview(r.bytes, offset, 6),
          );
        const b = octet(p++, 'tag');
        tagNumber = tagNumber * 128 + (b & 0x7f);
        if ((b & 0x80) === 0) break;
      }
    }
    const lengthOctet = octet(p++, 'length');
    let length = lengthOctet;
    if (lengthOctet === 0x80) {
      // Kerberos and SPNEGO are DER; LDAP (RFC 4511 §5.1) allows only the definite form too.
      throw asn1Error(
        r,
        'asn1/indefinite-length',
        p - 1,
        field,
        'a definite length',
        'indefinite length (0x80)',
      );
    }
    if (lengthOctet > 0x80) {
      const count = lengthOctet & 0x7f;
      if (count > MAX_LENGTH_OCTETS)
        throw asn1Error(
          r,
          'asn1/bad-length',
          p - 1,
          field,
          `at most ${MAX_LENGTH_OCTETS} length octets`,
          `${count}`,
        );
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + octet(p++, 'length');
    }
    if (length > end - p)
      throw asn1Error(r, 'asn1/bad-length', offset, field, `a length of at most ${end - p}`, `${length}`);
    return { tagClass, constructed, tagNumber, offset, contentOffset: p, length, end: p + length, depth };
  }

  /** The elements inside a constructed element, in order. */
  children(parent: BerElement, field: string): BerElement[] {
    if (!parent.constructed)
      throw asn1Error(
        this.reader,
        'asn1/unexpected-tag',
        parent.offset,
        field,
        'a constructed element',
        describeTag(parent),
      );
    const out: BerElement[] = [];
    for (let p = parent.contentOffset; p < parent.end; ) {
      const child = this.element(p, parent.end, parent.depth + 1, field);
      out.push(child);
      p = child.end;
    }
    return out;
  }

  /** Throws unless the element has this class and number (and, when given, form). */
  expect(
    el: BerElement,
    tagClass: TagClass,
    tagNumber: number,
    field: string,
    constructed?: boolean,
  ): BerElement {
    if (
      el.tagClass !== tagClass ||
      el.tagNumber !== tagNumber ||
      (constructed !== undefined && el.constructed !== constructed)
    ) {
      const want: BerElement = { ...el, tagClass, tagNumber, constructed: constructed ?? el.constructed };
      throw asn1Error(
        this.reader,
        'asn1/unexpected-tag',
        el.offset,
        field,
        describeTag(want),
        describeTag(el),
      );
    }
    return el;
  }

  /** The one element inside an EXPLICIT [n] wrapper. */
  explicit(wrapper: BerElement, field: string): BerElement {
    const inner = this.children(wrapper, field);
    const first = inner[0];
    if (inner.length !== 1 || first === undefined)
      throw asn1Error(
        this.reader,
        'asn1/bad-value',
        wrapper.offset,
        field,
        'exactly one element inside an explicit tag',
        `${inner.length}`,
      );
    return first;
  }

  /**
   * The context-tagged components of a SEQUENCE by tag number, as most Kerberos and SPNEGO
   * types are built: `SEQUENCE { a [0] …, b [1] … OPTIONAL }`. Untagged components are ignored.
   */
  tagged(sequence: BerElement, field: string): Map<number, BerElement> {
    const out = new Map<number, BerElement>();
    for (const child of this.children(sequence, field)) {
      if (child.tagClass === 'context' && !out.has(child.tagNumber)) out.set(child.tagNumber, child);
    }
    return out;
  }

  /** The element inside EXPLICIT [n] of a `tagged` map, or undefined when the component is absent. */
  optional(fields: Map<number, BerElement>, n: number, field: string): BerElement | undefined {
    const wrapper = fields.get(n);
    return wrapper === undefined ? undefined : this.explicit(wrapper, field);
  }

  /** The element inside EXPLICIT [n], which must be present. */
  required(fields: Map<number, BerElement>, n: number, parent: BerElement, field: string): BerElement {
    const wrapper = fields.get(n);
    if (wrapper === undefined)
      throw asn1Error(this.reader, 'asn1/bad-value', parent.offset, field, `component [${n}]`, 'none');
    return this.explicit(wrapper, field);
  }

  /** The SEQUENCE (or SET) that must be this element, and its children. */
  sequence(el: BerElement, field: string): BerElement[] {
    if (
      el.tagClass !== 'universal' ||
      (el.tagNumber !== universalTags.sequence && el.tagNumber !== universalTags.set)
    )
      this.expect(el, 'universal', universalTags.sequence, field, true);
    return this.children(el, field);
  }

  /** The content bytes of a primitive element, without copying. */
  octets(el: BerElement, field: string): Uint8Array {
    if (el.constructed)
      throw asn1Error(
        this.reader,
        'asn1/unexpected-tag',
        el.offset,
        field,
        'a primitive element',
        describeTag(el),
      );
    return this.reader.bytes.subarray(el.contentOffset, el.end);
  }

  /** A character string of any of the string types, decoded as UTF-8 (ASCII is a subset). */
  text(el: BerElement, field: string): string {
    return utf8.decode(this.octets(el, field));
  }

  /** An INTEGER or ENUMERATED (two's complement) as a number; values beyond ±2^53 are refused. */
  integer(el: BerElement, field: string): number {
    // Up to six octets are exact in a double: the usual case (tags, ids, flags), without BigInt.
    if (!el.constructed && el.length > 0 && el.length <= 6) {
      const bytes = this.reader.bytes;
      let n = 0;
      for (let at = el.contentOffset; at < el.end; at++) n = n * 256 + (bytes[at] as number);
      return ((bytes[el.contentOffset] as number) & 0x80) !== 0 ? n - 2 ** (el.length * 8) : n;
    }
    const value = this.bigInteger(el, field);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
      throw asn1Error(this.reader, 'asn1/bad-value', el.offset, field, 'an integer within ±2^53', `${value}`);
    return Number(value);
  }

  /** An INTEGER or ENUMERATED of any size as a bigint. */
  bigInteger(el: BerElement, field: string): bigint {
    const content = this.octets(el, field);
    if (content.length === 0)
      throw asn1Error(this.reader, 'asn1/bad-value', el.offset, field, 'at least one content octet', 'none');
    let value = 0n;
    for (const b of content) value = (value << 8n) | BigInt(b);
    if (((content[0] as number) & 0x80) !== 0) value -= 1n << BigInt(content.length * 8);
    return value;
  }

  /** A BOOLEAN: any non-zero octet is true (BER); DER's 0xFF is one of them. */
  boolean(el: BerElement, field: string): boolean {
    const content = this.octets(el, field);
    if (content.length !== 1)
      throw asn1Error(
        this.reader,
        'asn1/bad-value',
        el.offset,
        field,
        'one content octet',
        `${content.length}`,
      );
    return content[0] !== 0;
  }

  /** A BIT STRING: the count of unused bits in the last octet, and the octets holding the bits. */
  bitString(el: BerElement, field: string): { unusedBits: number; bits: Uint8Array } {
    const content = this.octets(el, field);
    const unusedBits = content[0];
    if (unusedBits === undefined || unusedBits > 7 || (content.length === 1 && unusedBits !== 0))
      throw asn1Error(
        this.reader,
        'asn1/bad-value',
        el.offset,
        field,
        'an unused-bit count 0–7',
        hexPreview(content, 0, 2),
      );
    return { unusedBits, bits: content.subarray(1) };
  }

  /**
   * The first 32 bits of a BIT STRING as an unsigned number, bit 0 being the most significant
   * (RFC 4120 §5.2.8 KerberosFlags); missing trailing bits are zero.
   */
  bitFlags(el: BerElement, field: string): number {
    const { bits } = this.bitString(el, field);
    let value = 0;
    for (let i = 0; i < 4; i++) value = value * 256 + (bits[i] ?? 0);
    return value;
  }

  /** An OBJECT IDENTIFIER in dotted form: `1.2.840.113554.1.2.2`. */
  objectIdentifier(el: BerElement, field: string): string {
    const content = this.octets(el, field);
    const arcs: number[] = [];
    let value = 0;
    for (let i = 0; i < content.length; i++) {
      const b = content[i] as number;
      if (value > 2 ** 45)
        throw asn1Error(
          this.reader,
          'asn1/bad-value',
          el.offset,
          field,
          'arcs below 2^53',
          hexPreview(content, 0, 16),
        );
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) !== 0) continue;
      if (arcs.length === 0) {
        // The first subidentifier packs the first two arcs (X.690 §8.19.4).
        const top = value < 40 ? 0 : value < 80 ? 1 : 2;
        arcs.push(top, value - top * 40);
      } else arcs.push(value);
      value = 0;
    }
    if (arcs.length === 0 || (content[content.length - 1] as number) & 0x80)
      throw asn1Error(
        this.reader,
        'asn1/bad-value',
        el.offset,
        field,
        'a complete object identifier',
        hexPreview(content, 0, 16),
      );
    return arcs.join('.');
  }

  /**
   * A GeneralizedTime as ISO 8601: `20261121222708Z` → `2026-11-21T22:27:08Z`; fractions are
   * kept (`.123Z`). Kerberos (RFC 4120 §5.2.3) always sends UTC with a Z.
   */
  generalizedTime(el: BerElement, field: string): string {
    const text = this.text(el, field);
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(text);
    if (!m)
      throw asn1Error(
        this.reader,
        'asn1/bad-value',
        el.offset,
        field,
        'a time YYYYMMDDHHMMSSZ',
        JSON.stringify(text.slice(0, 32)),
      );
    return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`;
  }
}

/**
 * The size of the element that starts at `offset`, as far as the header can be read: used by
 * stream splitters to know whether a whole message has arrived. Throws on a header that can
 * never become valid (indefinite length, too many length octets).
 */
export function peekElementSize(bytes: Uint8Array, offset: number, base = 0): ElementSize {
  const reader = new ByteReader(bytes, base);
  let p = offset + 1;
  if (p > bytes.length) return { kind: 'need-more' };
  if (((bytes[offset] as number) & 0x1f) === 0x1f) {
    for (let i = 0; ; i++) {
      if (i === MAX_TAG_OCTETS - 1)
        throw asn1Error(
          reader,
          'asn1/bad-tag',
          offset,
          'element tag',
          `a tag number in at most ${MAX_TAG_OCTETS - 1} octets`,
          hexPreview(bytes, offset, 6),
        );
      if (p >= bytes.length) return { kind: 'need-more' };
      if (((bytes[p++] as number) & 0x80) === 0) break;
    }
  }
  if (p >= bytes.length) return { kind: 'need-more' };
  const lengthOctet = bytes[p++] as number;
  if (lengthOctet === 0x80)
    throw asn1Error(
      reader,
      'asn1/indefinite-length',
      p - 1,
      'element length',
      'a definite length',
      'indefinite length (0x80)',
    );
  if (lengthOctet < 0x80)
    return { kind: 'complete-header', headerLength: p - offset, totalLength: p - offset + lengthOctet };
  const count = lengthOctet & 0x7f;
  if (count > MAX_LENGTH_OCTETS)
    throw asn1Error(
      reader,
      'asn1/bad-length',
      p - 1,
      'element length',
      `at most ${MAX_LENGTH_OCTETS} length octets`,
      `${count}`,
    );
  if (p + count > bytes.length) return { kind: 'need-more' };
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (bytes[p++] as number);
  return { kind: 'complete-header', headerLength: p - offset, totalLength: p - offset + length };
}
