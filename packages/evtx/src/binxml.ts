// BinXML (MS-EVEN6 §3.1.4): tokens of a chunk's records and template definitions parsed into a
// small node tree. Templates are compiled once per chunk and cached by their chunk offset;
// an instance keeps only where its substitution values lie, and values are decoded when used.
import { type ByteReader, hexPreview, ParseError } from '@palisade/binary';
import type { EvtxDiagnosticCode } from './diagnostics.ts';

// MS-EVEN6 §3.1.4.1 token values; 0x40 on element, attribute and value tokens is a "more" flag.
const Token = {
  endOfStream: 0x00,
  openStartElement: 0x01,
  closeStartElement: 0x02,
  closeEmptyElement: 0x03,
  endElement: 0x04,
  value: 0x05,
  attribute: 0x06,
  cdataSection: 0x07,
  charRef: 0x08,
  entityRef: 0x09,
  piTarget: 0x0a,
  piData: 0x0b,
  templateInstance: 0x0c,
  normalSubstitution: 0x0d,
  optionalSubstitution: 0x0e,
  fragmentHeader: 0x0f,
} as const;
const MORE = 0x40;

/** Deepest element nesting accepted; Windows events are rarely deeper than 6. */
export const MAX_ELEMENT_DEPTH = 64;
/** Deepest nesting of template instances and BinXML values accepted. */
export const MAX_INSTANCE_DEPTH = 16;

export type Node =
  | ElementNode
  | TextNode
  | CDataNode
  | CharRefNode
  | EntityRefNode
  | PiNode
  | SubstitutionNode
  | InstanceNode;

export interface ElementNode {
  readonly kind: 'element';
  readonly name: string;
  readonly attributes: readonly AttributeNode[];
  readonly children: readonly Node[];
}
export interface AttributeNode {
  readonly name: string;
  readonly value: readonly Node[];
}
export interface TextNode {
  readonly kind: 'text';
  readonly text: string;
}
export interface CDataNode {
  readonly kind: 'cdata';
  readonly text: string;
}
export interface CharRefNode {
  readonly kind: 'charRef';
  readonly code: number;
}
export interface EntityRefNode {
  readonly kind: 'entityRef';
  readonly name: string;
}
export interface PiNode {
  readonly kind: 'pi';
  readonly target: string;
  readonly data: string;
}
export interface SubstitutionNode {
  readonly kind: 'substitution';
  readonly index: number;
  readonly valueType: number;
  readonly optional: boolean;
}
/** A use of a template with the positions of its substitution values in the chunk. */
export interface InstanceNode {
  readonly kind: 'instance';
  readonly template: Template;
  readonly valueTypes: readonly number[];
  readonly valueOffsets: readonly number[];
  readonly valueSizes: readonly number[];
}
/** A compiled template definition (MS-EVEN6 §3.1.4.3). */
export interface Template {
  readonly offset: number;
  readonly guid: string;
  readonly nodes: readonly Node[];
}

type BinXmlErrorCode = Extract<
  EvtxDiagnosticCode,
  'evtx/bad-binxml' | 'evtx/bad-template' | 'evtx/template-cycle' | 'evtx/too-deep'
>;

/**
 * Parses BinXML inside one chunk. Holds the chunk's name and template caches; one per chunk.
 */
export class ChunkParser {
  readonly reader: ByteReader;
  private readonly names = new Map<number, string>();
  private readonly templates = new Map<number, Template | ParseError>();
  private readonly compiling = new Set<number>();

  constructor(reader: ByteReader) {
    this.reader = reader;
  }

  /** Number of templates compiled in this chunk so far. */
  get templateCount(): number {
    return this.templates.size;
  }

  /**
   * Parses the BinXML fragment in [start, end): a fragment header, then an element or a
   * template instance, then end of stream. `hasDependencyIds` is false inside BinXML
   * substitution values, whose element tokens omit the dependency identifier.
   */
  parseFragment(start: number, end: number, hasDependencyIds: boolean, depth: number): Node[] {
    if (depth > MAX_INSTANCE_DEPTH) {
      throw this.error(
        'evtx/too-deep',
        start,
        'BinXML nesting',
        `at most ${MAX_INSTANCE_DEPTH} levels`,
        `${depth}`,
      );
    }
    const state = { p: start, end, hasDependencyIds, depth };
    return this.parseContent(state, 0, true);
  }

  // Content is a sequence of nodes ended by EndElement (inside an element) or EndOfStream
  // (at fragment level) or by the end of the data.
  private parseContent(s: ParseState, elementDepth: number, fragmentLevel: boolean): Node[] {
    const r = this.reader;
    const nodes: Node[] = [];
    while (s.p < s.end) {
      const token = r.u8(s.p, 'BinXML token');
      switch (token & ~MORE) {
        case Token.endOfStream:
          s.p++;
          if (!fragmentLevel)
            this.fail(s.p - 1, 'element content', 'EndElement before EndOfStream', 'EndOfStream');
          return nodes;
        case Token.endElement:
          s.p++;
          if (fragmentLevel)
            this.fail(s.p - 1, 'fragment content', 'EndOfStream', 'EndElement outside an element');
          return nodes;
        case Token.fragmentHeader:
          // Major 1, minor 1, flags 0; the values are not checked, as Windows does not either.
          r.ensure(s.p, 4, 'fragment header');
          s.p += 4;
          break;
        case Token.openStartElement:
          nodes.push(this.parseElement(s, elementDepth + 1));
          break;
        case Token.value:
          nodes.push(this.parseValueText(s));
          break;
        case Token.cdataSection: {
          const count = r.u16le(s.p + 1, 'CDATA length');
          nodes.push({ kind: 'cdata', text: r.utf16le(s.p + 3, count, 'CDATA text') });
          s.p += 3 + count * 2;
          break;
        }
        case Token.charRef:
          nodes.push({ kind: 'charRef', code: r.u16le(s.p + 1, 'character reference') });
          s.p += 3;
          break;
        case Token.entityRef:
          s.p++;
          nodes.push({ kind: 'entityRef', name: this.readNameAt(s, 'entity reference name') });
          break;
        case Token.piTarget: {
          s.p++;
          const target = this.readNameAt(s, 'processing instruction target');
          let data = '';
          if (s.p < s.end && r.u8(s.p, 'BinXML token') === Token.piData) {
            const count = r.u16le(s.p + 1, 'processing instruction data length');
            data = r.utf16le(s.p + 3, count, 'processing instruction data');
            s.p += 3 + count * 2;
          }
          nodes.push({ kind: 'pi', target, data });
          break;
        }
        case Token.normalSubstitution:
        case Token.optionalSubstitution:
          nodes.push(this.parseSubstitution(s, token));
          break;
        case Token.templateInstance:
          nodes.push(this.parseInstance(s));
          break;
        default:
          this.fail(s.p, 'BinXML token', 'a token 0x00–0x0f (optionally | 0x40)', `0x${token.toString(16)}`);
      }
    }
    if (!fragmentLevel) this.fail(s.p, 'element content', 'EndElement', 'end of data');
    return nodes;
  }

  private parseElement(s: ParseState, elementDepth: number): ElementNode {
    const r = this.reader;
    if (elementDepth > MAX_ELEMENT_DEPTH) {
      throw this.error(
        'evtx/too-deep',
        s.p,
        'element nesting',
        `at most ${MAX_ELEMENT_DEPTH} levels`,
        `${elementDepth}`,
      );
    }
    const hasAttributes = (r.u8(s.p, 'element token') & MORE) !== 0;
    s.p += s.hasDependencyIds ? 3 : 1;
    const dataSize = r.u32le(s.p, 'element data size');
    s.p += 4;
    const elementEnd = s.p + dataSize;
    if (elementEnd > s.end) {
      this.fail(s.p - 4, 'element data size', `at most ${s.end - s.p} bytes`, `${dataSize}`);
    }
    const name = this.readNameAt(s, 'element name');
    const attributes: AttributeNode[] = [];
    if (hasAttributes) {
      const listSize = r.u32le(s.p, 'attribute list size');
      s.p += 4;
      const listEnd = s.p + listSize;
      if (listEnd > elementEnd)
        this.fail(s.p - 4, 'attribute list size', `at most ${elementEnd - s.p}`, `${listSize}`);
      while (s.p < listEnd && (r.u8(s.p, 'attribute token') & ~MORE) === Token.attribute) {
        attributes.push(this.parseAttribute(s));
      }
    }
    const close = r.u8(s.p, 'element close token');
    s.p++;
    if (close === Token.closeEmptyElement) return { kind: 'element', name, attributes, children: [] };
    if (close !== Token.closeStartElement) {
      this.fail(
        s.p - 1,
        'element close token',
        'CloseStartElement (0x02) or CloseEmptyElement (0x03)',
        `0x${close.toString(16)}`,
      );
    }
    const children = this.parseContent(s, elementDepth, false);
    return { kind: 'element', name, attributes, children };
  }

  private parseAttribute(s: ParseState): AttributeNode {
    const r = this.reader;
    s.p++;
    const name = this.readNameAt(s, 'attribute name');
    const value: Node[] = [];
    for (;;) {
      if (s.p >= s.end) break;
      const token = r.u8(s.p, 'attribute value token');
      const base = token & ~MORE;
      if (base === Token.value) value.push(this.parseValueText(s));
      else if (base === Token.normalSubstitution || base === Token.optionalSubstitution) {
        value.push(this.parseSubstitution(s, token));
      } else if (base === Token.charRef) {
        value.push({ kind: 'charRef', code: r.u16le(s.p + 1, 'character reference') });
        s.p += 3;
      } else if (base === Token.entityRef) {
        s.p++;
        value.push({ kind: 'entityRef', name: this.readNameAt(s, 'entity reference name') });
      } else break;
    }
    return { name, value };
  }

  private parseValueText(s: ParseState): TextNode {
    const r = this.reader;
    const type = r.u8(s.p + 1, 'value text type');
    // MS-EVEN6 allows only string values here.
    if (type !== 0x01) this.fail(s.p + 1, 'value text type', 'string (0x01)', `0x${type.toString(16)}`);
    const count = r.u16le(s.p + 2, 'value text length');
    const text = r.utf16le(s.p + 4, count, 'value text');
    s.p += 4 + count * 2;
    return { kind: 'text', text };
  }

  private parseSubstitution(s: ParseState, token: number): SubstitutionNode {
    const r = this.reader;
    const index = r.u16le(s.p + 1, 'substitution index');
    const valueType = r.u8(s.p + 3, 'substitution value type');
    s.p += 4;
    return {
      kind: 'substitution',
      index,
      valueType,
      optional: (token & ~MORE) === Token.optionalSubstitution,
    };
  }

  private parseInstance(s: ParseState): InstanceNode {
    const r = this.reader;
    const start = s.p;
    // Token, one unknown byte, the template identifier, then the definition's chunk offset.
    const definitionOffset = r.u32le(s.p + 6, 'template definition offset');
    s.p += 10;
    if (definitionOffset === s.p) {
      // The definition follows inline: next offset (4), GUID (16), data size (4), data.
      const dataSize = r.u32le(s.p + 20, 'template data size');
      s.p += 24 + dataSize;
      r.ensure(definitionOffset, 24 + dataSize, 'template definition');
    }
    const template = this.template(definitionOffset, start, s.depth);
    const count = r.u32le(s.p, 'template value count');
    s.p += 4;
    r.ensure(s.p, count * 4, 'template value descriptors');
    const valueTypes: number[] = new Array(count);
    const valueOffsets: number[] = new Array(count);
    const valueSizes: number[] = new Array(count);
    let data = s.p + count * 4;
    const view = r.view;
    for (let i = 0; i < count; i++) {
      const d = s.p + i * 4;
      const size = view.getUint16(d, true);
      valueSizes[i] = size;
      valueTypes[i] = view.getUint8(d + 2);
      valueOffsets[i] = data;
      data += size;
    }
    r.ensure(s.p + count * 4, data - (s.p + count * 4), 'template values');
    if (data > s.end)
      this.fail(s.p, 'template values', `values within ${s.end - s.p} bytes`, `${data - s.p}`);
    s.p = data;
    return { kind: 'instance', template, valueTypes, valueOffsets, valueSizes };
  }

  /** The compiled template whose definition starts at `offset`, compiling it on first use. */
  template(offset: number, usedAt: number, depth: number): Template {
    const cached = this.templates.get(offset);
    if (cached instanceof ParseError) throw cached;
    if (cached) return cached;
    if (this.compiling.has(offset)) {
      throw this.error(
        'evtx/template-cycle',
        usedAt,
        'template instance',
        'a template that does not contain itself',
        `a reference back to the template at 0x${(this.reader.base + offset).toString(16)}`,
      );
    }
    const r = this.reader;
    if (offset < 512 || offset + 24 > r.length) {
      throw this.error(
        'evtx/bad-template',
        usedAt,
        'template definition offset',
        `an offset inside the chunk's data (0x200–0x${(r.length - 24).toString(16)})`,
        `0x${offset.toString(16)}`,
      );
    }
    this.compiling.add(offset);
    try {
      const guid = r.guid(offset + 4, 'template GUID');
      const dataSize = r.u32le(offset + 20, 'template data size');
      if (offset + 24 + dataSize > r.length) {
        throw this.error(
          'evtx/bad-template',
          offset + 20,
          'template data size',
          `at most ${r.length - offset - 24}`,
          `${dataSize}`,
        );
      }
      const nodes = this.parseFragment(offset + 24, offset + 24 + dataSize, true, depth + 1);
      const template: Template = { offset, guid, nodes };
      this.templates.set(offset, template);
      return template;
    } catch (e) {
      if (e instanceof ParseError && e.code !== 'evtx/template-cycle') {
        const wrapped =
          e.code === 'evtx/bad-template'
            ? e
            : this.error(
                'evtx/bad-template',
                offset,
                `template at 0x${(r.base + offset).toString(16)}`,
                'a valid definition',
                e.message,
                e,
              );
        this.templates.set(offset, wrapped);
        throw wrapped;
      }
      throw e;
    } finally {
      this.compiling.delete(offset);
    }
  }

  // A name is referenced by chunk offset (MS-EVEN6 §3.1.4.2); when the offset is the current
  // position the name structure follows inline and is skipped.
  private readNameAt(s: ParseState, field: string): string {
    const r = this.reader;
    const offset = r.u32le(s.p, `${field} offset`);
    // A wild offset is reported where it was read, not at the address it points to.
    if (offset + 8 > r.length) {
      this.fail(
        s.p,
        `${field} offset`,
        `an offset inside the chunk (0–0x${(r.length - 8).toString(16)})`,
        `0x${offset.toString(16)}`,
      );
    }
    s.p += 4;
    const name = this.name(offset, field);
    if (offset === s.p) s.p += 10 + name.length * 2;
    return name;
  }

  private name(offset: number, field: string): string {
    const cached = this.names.get(offset);
    if (cached !== undefined) return cached;
    const r = this.reader;
    const count = r.u16le(offset + 6, `${field} length`);
    const name = r.utf16le(offset + 8, count, field);
    this.names.set(offset, name);
    return name;
  }

  private error(
    code: BinXmlErrorCode,
    offset: number,
    field: string,
    expected: string,
    found: string,
    cause?: unknown,
  ): ParseError<BinXmlErrorCode> {
    return new ParseError<BinXmlErrorCode>({
      code,
      offset: this.reader.base + offset,
      field,
      expected,
      found,
      cause,
    });
  }

  private fail(offset: number, field: string, expected: string, found: string): never {
    const preview = found === '' ? hexPreview(this.reader.bytes, offset, 4) : found;
    throw this.error('evtx/bad-binxml', offset, field, expected, preview);
  }
}

interface ParseState {
  p: number;
  readonly end: number;
  readonly hasDependencyIds: boolean;
  readonly depth: number;
}
