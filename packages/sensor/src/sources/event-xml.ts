// Event XML as Windows renders it (the event schema, `http://schemas.microsoft.com/win/2004/08/
// events/event`) → the typed event the EVTX reader builds from the same record, field for field,
// so events from live channels and from .evtx files look the same to the server.
import { EventBuilder, type EvtxEvent } from '@palisade/evtx';

/** An event, or what was wrong with its XML and where (character offset in the text given). */
export type EventXmlResult =
  | { readonly kind: 'event'; readonly event: EvtxEvent }
  | { readonly kind: 'problem'; readonly offset: number; readonly message: string };

/** One `<Event>` element of a larger text, with the offset it starts at. */
export interface EventXmlSlice {
  readonly xml: string;
  readonly offset: number;
}

/**
 * The `<Event>…</Event>` elements of a text (an `<Events>` document, or events one after
 * another); an element cut off at the end is returned as it is, for the reader to report.
 */
export function sliceEvents(text: string): EventXmlSlice[] {
  const slices: EventXmlSlice[] = [];
  let from = 0;
  for (;;) {
    const start = findEventStart(text, from);
    if (start < 0) return slices;
    const close = text.indexOf('</Event>', start);
    const end = close < 0 ? text.length : close + '</Event>'.length;
    slices.push({ xml: text.slice(start, end), offset: start });
    from = end;
  }
}

function findEventStart(text: string, from: number): number {
  for (let i = text.indexOf('<Event', from); i >= 0; i = text.indexOf('<Event', i + 1)) {
    const next = text[i + 6];
    if (next === ' ' || next === '>' || next === '\t' || next === '\r' || next === '\n') return i;
  }
  return -1;
}

/**
 * Reads the XML of one event. `recordId` is its EventRecordID and `writtenTime` its TimeCreated:
 * event XML carries neither the record header's id nor its written time.
 *
 * @example
 * const result = eventFromXml("<Event xmlns='…'><System>…</System><EventData>…</EventData></Event>");
 */
export function eventFromXml(xml: string): EventXmlResult {
  const builder = new EventXmlBuilder();
  const problem = scanXml(xml, builder);
  if (problem) return { kind: 'problem', ...problem };
  if (!builder.complete)
    return { kind: 'problem', offset: xml.length, message: 'expected </Event>, found the end of the text' };
  return { kind: 'event', event: builder.build() };
}

/** Receives the parts of an XML document in order, attributes right after their element's start. */
interface XmlHandler {
  startElement(name: string): void;
  attribute(name: string, value: string): void;
  text(value: string): void;
  endElement(): void;
}

const nameChars = /[^\s/>=]/;

/** Scans XML text into `handler`; returns the first problem, with its offset. */
function scanXml(xml: string, handler: XmlHandler): { offset: number; message: string } | undefined {
  const open: string[] = [];
  let p = 0;
  const fail = (message: string) => ({ offset: p, message });
  while (p < xml.length) {
    const lt = xml.indexOf('<', p);
    if (lt < 0 || lt > p) {
      const end = lt < 0 ? xml.length : lt;
      const raw = xml.slice(p, end);
      if (open.length > 0) {
        const decoded = decodeEntities(raw);
        if (decoded === undefined) return fail(`expected an entity (&name; or &#n;), found ${quote(raw)}`);
        handler.text(decoded);
      } else if (raw.trim() !== '') return fail(`expected an element, found text ${quote(raw)}`);
      p = end;
      continue;
    }
    if (xml.startsWith('<?', p) || xml.startsWith('<!--', p) || xml.startsWith('<!DOCTYPE', p)) {
      const terminator = xml.startsWith('<?', p) ? '?>' : xml.startsWith('<!--', p) ? '-->' : '>';
      const end = xml.indexOf(terminator, p);
      if (end < 0) return fail(`expected ${terminator}, found the end of the text`);
      p = end + terminator.length;
      continue;
    }
    if (xml.startsWith('<![CDATA[', p)) {
      const end = xml.indexOf(']]>', p);
      if (end < 0) return fail('expected ]]>, found the end of the text');
      handler.text(xml.slice(p + 9, end));
      p = end + 3;
      continue;
    }
    if (xml.startsWith('</', p)) {
      const end = xml.indexOf('>', p);
      if (end < 0) return fail('expected >, found the end of the text');
      const name = xml.slice(p + 2, end).trim();
      const expected = open.pop();
      if (name !== expected)
        return fail(`expected ${expected === undefined ? 'no end tag' : `</${expected}>`}, found </${name}>`);
      handler.endElement();
      p = end + 1;
      continue;
    }
    // A start tag: name, attributes in either quote, then > or />.
    let q = p + 1;
    while (q < xml.length && nameChars.test(xml[q] as string)) q++;
    const name = xml.slice(p + 1, q);
    if (name === '') return fail(`expected an element name, found ${quote(xml.slice(p))}`);
    handler.startElement(name);
    for (;;) {
      while (q < xml.length && /\s/.test(xml[q] as string)) q++;
      if (xml.startsWith('/>', q)) {
        handler.endElement();
        q += 2;
        break;
      }
      if (xml[q] === '>') {
        open.push(name);
        q++;
        break;
      }
      const nameStart = q;
      while (q < xml.length && nameChars.test(xml[q] as string)) q++;
      const attribute = xml.slice(nameStart, q);
      const quoteChar = xml[q + 1];
      if (attribute === '' || xml[q] !== '=' || (quoteChar !== "'" && quoteChar !== '"')) {
        p = nameStart;
        return fail(
          `expected an attribute name="value" or the end of <${name}>, found ${quote(xml.slice(nameStart))}`,
        );
      }
      const valueEnd = xml.indexOf(quoteChar, q + 2);
      if (valueEnd < 0) {
        p = q;
        return fail(`expected the closing ${quoteChar} of attribute ${attribute}, found the end of the text`);
      }
      const value = decodeEntities(xml.slice(q + 2, valueEnd));
      if (value === undefined) {
        p = q;
        return fail(
          `expected an entity in attribute ${attribute}, found ${quote(xml.slice(q + 2, valueEnd))}`,
        );
      }
      handler.attribute(attribute, value);
      q = valueEnd + 1;
    }
    p = q;
  }
  if (open.length > 0) return fail(`expected </${open[open.length - 1]}>, found the end of the text`);
  return undefined;
}

const namedEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Replaces entity and character references; undefined when one is malformed or unknown. */
function decodeEntities(raw: string): string | undefined {
  if (!raw.includes('&')) return raw;
  let bad = false;
  const out = raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) {
      bad = true;
      return whole;
    }
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (code > 0x10ffff) bad = true;
      return bad ? whole : String.fromCodePoint(code);
    }
    const named = Object.hasOwn(namedEntities, ref) ? namedEntities[ref] : undefined;
    if (named === undefined) bad = true;
    return named ?? whole;
  });
  return bad ? undefined : out;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/**
 * Feeds the EVTX reader's own event builder, so an event read from XML has exactly the keys, order
 * and types of the same event read from an EVTX file. XML carries no record header: the record id
 * is System/EventRecordID and the written time System/TimeCreated, as Windows renders them.
 */
class EventXmlBuilder implements XmlHandler {
  readonly #builder = new EventBuilder();
  readonly #path: string[] = [];
  #recordId = 0;
  #timeCreated = '';
  #text = '';
  /** The `<Event>` element was closed. */
  complete = false;

  startElement(name: string): void {
    this.#path.push(name);
    this.#text = '';
    this.#builder.startElement(name);
  }

  attribute(name: string, value: string): void {
    let given = value;
    if (this.#at('Event', 'System', 'TimeCreated') && name === 'SystemTime') {
      given = systemTime(value);
      this.#timeCreated = given;
    }
    this.#builder.attribute(name, given);
  }

  text(value: string): void {
    this.#text += value;
    this.#builder.text(value);
  }

  endElement(): void {
    if (this.#at('Event', 'System', 'EventRecordID')) this.#recordId = toNumber(this.#text.trim());
    const name = this.#path.pop();
    this.#builder.endElement();
    if (this.#path.length === 0) this.complete = name === 'Event';
  }

  build(): EvtxEvent {
    return this.#builder.build(this.#recordId, this.#timeCreated);
  }

  #at(...path: string[]): boolean {
    return this.#path.length === path.length && path.every((name, i) => this.#path[i] === name);
  }
}

/**
 * SystemTime in the EVTX reader's form, 7 fraction digits: older Windows renders 9
 * (`…:17.006377000Z`), newer ones 7; the value is in 100 ns units either way.
 */
function systemTime(value: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(value);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(7, '0').slice(0, 7)}Z` : value;
}

function toNumber(text: string): number {
  const n = Number(text);
  return Number.isNaN(n) ? 0 : n;
}
