// Event XML as Windows renders it (the event schema, `http://schemas.microsoft.com/win/2004/08/
// events/event`) → the typed event the EVTX reader builds from the same record, field for field,
// so events from live channels and from .evtx files look the same to the server.
import type { EventDataValue, EventSystem, EvtxEvent, UserDataObject, UserDataValue } from '@palisade/evtx';

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

type Section = 'none' | 'system' | 'eventData' | 'userData' | 'renderingInfo' | 'other';

interface Frame {
  readonly name: string;
  text: string;
  attributes: Record<string, string> | undefined;
  children: UserDataObject | undefined;
}

// The System block's fields, as the EVTX reader names and types them.
const numericSystemText: Readonly<Record<string, keyof EventSystem>> = {
  EventID: 'eventId',
  Version: 'version',
  Level: 'level',
  Task: 'task',
  Opcode: 'opcode',
  EventRecordID: 'eventRecordId',
};
const stringSystemText: Readonly<Record<string, keyof EventSystem>> = {
  Keywords: 'keywords',
  Channel: 'channel',
  Computer: 'computer',
};
const systemAttributes: Readonly<
  Record<string, Readonly<Record<string, { readonly key: keyof EventSystem; readonly numeric: boolean }>>>
> = {
  Provider: {
    Name: { key: 'provider', numeric: false },
    Guid: { key: 'providerGuid', numeric: false },
    EventSourceName: { key: 'eventSourceName', numeric: false },
  },
  EventID: { Qualifiers: { key: 'qualifiers', numeric: true } },
  TimeCreated: { SystemTime: { key: 'timeCreated', numeric: false } },
  Correlation: {
    ActivityID: { key: 'activityId', numeric: false },
    RelatedActivityID: { key: 'relatedActivityId', numeric: false },
  },
  Execution: {
    ProcessID: { key: 'processId', numeric: true },
    ThreadID: { key: 'threadId', numeric: true },
    ProcessorID: { key: 'processorId', numeric: true },
    SessionID: { key: 'sessionId', numeric: true },
  },
  Security: { UserID: { key: 'userId', numeric: false } },
};

const sections: Readonly<Record<string, Section>> = {
  System: 'system',
  EventData: 'eventData',
  UserData: 'userData',
  RenderingInfo: 'renderingInfo',
};

/** Builds the typed event from one `<Event>` element, the way the EVTX reader does from a record. */
class EventXmlBuilder implements XmlHandler {
  private readonly stack: Frame[] = [];
  private section: Section = 'none';
  private readonly system: Record<string, string | number> = {};
  private eventData: Record<string, EventDataValue> | undefined;
  private userData: UserDataObject | undefined;
  private renderingInfo: Record<string, string> | undefined;
  /** The `<Event>` element was closed. */
  complete = false;

  startElement(name: string): void {
    if (this.stack.length === 1) {
      this.section = Object.hasOwn(sections, name) ? (sections[name] as Section) : 'other';
      if (this.section === 'eventData') this.eventData ??= {};
      if (this.section === 'userData') this.userData ??= {};
    }
    this.stack.push({ name, text: '', attributes: undefined, children: undefined });
  }

  attribute(name: string, value: string): void {
    const frame = this.stack[this.stack.length - 1];
    if (!frame) return;
    if (this.section === 'system' && this.stack.length === 3) {
      const target = systemAttributes[frame.name]?.[name];
      if (target) this.system[target.key] = target.numeric ? toNumber(value) : systemValue(target.key, value);
      return;
    }
    (frame.attributes ??= {})[name] = value;
  }

  text(value: string): void {
    const frame = this.stack[this.stack.length - 1];
    if (frame) frame.text += value;
  }

  endElement(): void {
    const frame = this.stack.pop();
    if (!frame) return;
    const depth = this.stack.length;
    if (this.section === 'system' && depth === 2) this.closeSystemField(frame);
    else if (this.section === 'eventData' && depth === 2) this.closeData(frame);
    else if (this.section === 'userData' && depth >= 2) this.closeUserData(frame, depth);
    else if (this.section === 'renderingInfo' && depth === 2 && frame.text !== '')
      (this.renderingInfo ??= {})[frame.name] = frame.text;
    if (depth === 1) this.section = 'none';
    if (depth === 0) this.complete = frame.name === 'Event';
  }

  private closeSystemField(frame: Frame): void {
    const numeric = numericSystemText[frame.name];
    if (numeric) {
      if (frame.text !== '') this.system[numeric] = toNumber(frame.text);
      return;
    }
    const text = stringSystemText[frame.name];
    if (text) this.system[text] = frame.text;
  }

  private closeData(frame: Frame): void {
    const data = this.eventData ?? {};
    const name = frame.attributes?.Name;
    if (name !== undefined) {
      data[name] = frame.text;
      return;
    }
    // Unnamed <Data> (classic events' insertion strings) gather in order; <Binary> keeps its name.
    const existing = data[frame.name];
    if (frame.name === 'Data') {
      if (Array.isArray(existing)) existing.push(frame.text);
      else data.Data = existing === undefined ? [frame.text] : [existing, frame.text];
    } else data[frame.name] = frame.text;
  }

  private closeUserData(frame: Frame, depth: number): void {
    let value: UserDataValue;
    if (frame.children) {
      value = frame.children;
      if (frame.attributes) value['#attributes'] = frame.attributes;
    } else if (frame.attributes && depth > 2) {
      value = { '#attributes': frame.attributes, '#text': frame.text };
    } else value = frame.text;
    const parent = depth === 2 ? undefined : this.stack[this.stack.length - 1];
    const target = parent ? (parent.children ??= {}) : (this.userData ?? {});
    const existing = target[frame.name];
    if (existing === undefined) target[frame.name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else target[frame.name] = [existing, value];
  }

  build(): EvtxEvent {
    const system = this.system as unknown as EventSystem;
    system.provider ??= '';
    system.eventId ??= 0;
    system.channel ??= '';
    system.computer ??= '';
    const time = system.timeCreated ?? '';
    const event: EvtxEvent = {
      recordId: system.eventRecordId ?? 0,
      timestamp: time,
      writtenTime: time,
      system,
    };
    if (this.eventData) event.eventData = this.eventData;
    if (this.userData) event.userData = this.userData;
    if (this.renderingInfo) event.renderingInfo = this.renderingInfo;
    return event;
  }
}

/**
 * SystemTime in the EVTX reader's form, 7 fraction digits: older Windows renders 9
 * (`…:17.006377000Z`), newer ones 7; the value is in 100 ns units either way.
 */
function systemValue(key: keyof EventSystem, value: string): string {
  if (key !== 'timeCreated') return value;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(value);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(7, '0').slice(0, 7)}Z` : value;
}

function toNumber(text: string): number {
  const n = Number(text);
  return Number.isNaN(n) ? 0 : n;
}
