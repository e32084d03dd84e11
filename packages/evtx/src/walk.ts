// Walks a parsed BinXML tree with its substitution values, calling a sink for each element,
// attribute and piece of text. The typed-event builder and the XML writer are such sinks.
import { ParseError } from '@palisade/binary';
import { type ChunkParser, MAX_INSTANCE_DEPTH, type Node } from './binxml.ts';
import { ARRAY_FLAG, renderValue, ValueType } from './values.ts';

/** Receives a rendered document in order; attributes come right after their element's start. */
export interface XmlSink {
  startElement(name: string): void;
  attribute(name: string, value: string): void;
  text(value: string): void;
  cdata(value: string): void;
  entityRef(name: string): void;
  pi(target: string, data: string): void;
  endElement(): void;
}

interface Values {
  readonly types: readonly number[];
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
}

const noValues: Values = { types: [], offsets: [], sizes: [] };

/**
 * Most output one record may expand to: characters given to the sink, plus one per node and
 * the element depth per element (the XML writer's indentation). Templates and BinXML values
 * can reuse each other so that a few kilobytes expand exponentially; this bound turns such a
 * record into a diagnostic instead of a hang.
 */
export const MAX_RENDERED_SIZE = 4 * 1024 * 1024;

/** What a record may still render, and where it starts for the diagnostic. */
interface Budget {
  left: number;
  elementDepth: number;
  readonly offset: number;
}

/**
 * Renders `nodes` into `sink`, expanding template instances and BinXML values. `offset` is
 * where the record's BinXML starts, named when the record expands past MAX_RENDERED_SIZE.
 */
export function walk(parser: ChunkParser, nodes: readonly Node[], sink: XmlSink, offset = 0): void {
  walkNodes(parser, nodes, noValues, sink, 0, { left: MAX_RENDERED_SIZE, elementDepth: 0, offset });
}

function spend(parser: ChunkParser, budget: Budget, units: number): void {
  budget.left -= units;
  if (budget.left < 0) {
    throw new ParseError({
      code: 'evtx/too-large',
      offset: parser.reader.base + budget.offset,
      field: 'rendered record',
      expected: `at most ${MAX_RENDERED_SIZE} characters once templates and values are expanded`,
      found: 'more',
    });
  }
}

function walkNodes(
  parser: ChunkParser,
  nodes: readonly Node[],
  values: Values,
  sink: XmlSink,
  depth: number,
  budget: Budget,
): void {
  for (const node of nodes) {
    spend(parser, budget, 1);
    switch (node.kind) {
      case 'element': {
        const attributes: [string, string][] = [];
        let cost = node.name.length + budget.elementDepth;
        for (const attribute of node.attributes) {
          const value = attributeText(parser, attribute.value, values, budget);
          if (value !== undefined) {
            attributes.push([attribute.name, value]);
            // Counted again here: an array repeats the element with its attributes per item.
            cost += attribute.name.length + value.length;
          }
        }
        spend(parser, budget, cost);
        const only = node.children.length === 1 ? node.children[0] : undefined;
        if (only?.kind === 'substitution') {
          const type = values.types[only.index];
          const size = values.sizes[only.index] ?? 0;
          // An element holding only an absent optional value is left out (classic events'
          // empty <Binary>); one holding only an array is repeated once per item, as
          // Windows renders the insertion strings of classic events as one <Data> each.
          if (
            only.optional &&
            attributes.length === 0 &&
            (type === undefined || type === ValueType.null || size === 0)
          )
            break;
          if (type !== undefined && type & ARRAY_FLAG) {
            const items = renderValue(parser.reader, type, values.offsets[only.index] as number, size);
            for (const item of items) {
              spend(parser, budget, cost + item.length);
              sink.startElement(node.name);
              for (const [name, value] of attributes) sink.attribute(name, value);
              sink.text(item);
              sink.endElement();
            }
            break;
          }
        }
        sink.startElement(node.name);
        for (const [name, value] of attributes) sink.attribute(name, value);
        budget.elementDepth++;
        walkNodes(parser, node.children, values, sink, depth, budget);
        budget.elementDepth--;
        sink.endElement();
        break;
      }
      case 'text':
        spend(parser, budget, node.text.length);
        sink.text(node.text);
        break;
      case 'cdata':
        spend(parser, budget, node.text.length);
        sink.cdata(node.text);
        break;
      case 'charRef':
        sink.text(String.fromCharCode(node.code));
        break;
      case 'entityRef':
        spend(parser, budget, node.name.length);
        sink.entityRef(node.name);
        break;
      case 'pi':
        spend(parser, budget, node.target.length + node.data.length);
        sink.pi(node.target, node.data);
        break;
      case 'substitution':
        substitute(parser, node.index, node.optional, values, sink, depth, budget);
        break;
      case 'instance':
        if (depth >= MAX_INSTANCE_DEPTH) throw tooDeep(parser, node.template.offset);
        walkNodes(
          parser,
          node.template.nodes,
          { types: node.valueTypes, offsets: node.valueOffsets, sizes: node.valueSizes },
          sink,
          depth + 1,
          budget,
        );
        break;
      default:
        assertNever(node);
    }
  }
}

function substitute(
  parser: ChunkParser,
  index: number,
  optional: boolean,
  values: Values,
  sink: XmlSink,
  depth: number,
  budget: Budget,
): void {
  const type = values.types[index];
  // A substitution past the instance's values renders as nothing, as Windows does.
  if (type === undefined) return;
  const offset = values.offsets[index] as number;
  const size = values.sizes[index] as number;
  if (type === ValueType.null || (optional && size === 0)) return;
  if (type === ValueType.binXml) {
    if (depth >= MAX_INSTANCE_DEPTH) throw tooDeep(parser, offset);
    // The value is parsed again at each use, so parsing costs from the budget too.
    spend(parser, budget, size);
    walkNodes(
      parser,
      parser.parseFragment(offset, offset + size, false, depth + 1),
      noValues,
      sink,
      depth + 1,
      budget,
    );
    return;
  }
  const rendered = renderValue(parser.reader, type, offset, size);
  // An array mixed with other content (rare) is written as its items separated by spaces.
  const text = typeof rendered === 'string' ? rendered : rendered.join(' ');
  spend(parser, budget, text.length);
  sink.text(text);
}

// An attribute's value is the concatenation of its parts; one made only of absent optional
// substitutions is left out, as Windows renders `<Correlation/>` without an ActivityID.
function attributeText(
  parser: ChunkParser,
  parts: readonly Node[],
  values: Values,
  budget: Budget,
): string | undefined {
  let text = '';
  let present = false;
  for (const part of parts) {
    switch (part.kind) {
      case 'text':
        text += part.text;
        present = true;
        break;
      case 'charRef':
        text += String.fromCharCode(part.code);
        present = true;
        break;
      case 'entityRef':
        text += entityText(part.name);
        present = true;
        break;
      case 'substitution': {
        const type = values.types[part.index];
        if (type === undefined || type === ValueType.null) {
          if (!part.optional) present = true;
          break;
        }
        const size = values.sizes[part.index] as number;
        if (part.optional && size === 0) break;
        const rendered = renderValue(parser.reader, type, values.offsets[part.index] as number, size);
        const item = typeof rendered === 'string' ? rendered : rendered.join(' ');
        spend(parser, budget, item.length);
        text += item;
        present = true;
        break;
      }
      default:
        // Elements, CDATA, PIs and instances cannot stand in an attribute value.
        break;
    }
  }
  return present ? text : undefined;
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The character an XML entity reference stands for; unknown entities keep their `&name;` form. */
export function entityText(name: string): string {
  return entities[name] ?? `&${name};`;
}

function tooDeep(parser: ChunkParser, offset: number): ParseError {
  return new ParseError({
    code: 'evtx/too-deep',
    offset: parser.reader.base + offset,
    field: 'template instance nesting',
    expected: `at most ${MAX_INSTANCE_DEPTH} levels`,
    found: 'more',
  });
}

function assertNever(value: never): never {
  throw new Error(`unhandled BinXML node ${JSON.stringify(value)}`);
}
