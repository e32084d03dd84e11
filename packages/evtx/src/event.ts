// The typed event: the System block as named, typed fields and the EventData or UserData
// payload as name → value, built in one pass from a rendered record.
import { entityText, type XmlSink } from './walk.ts';

/** The `<System>` block of an event (Windows event schema). */
export interface EventSystem {
  provider: string;
  providerGuid?: string;
  eventSourceName?: string;
  eventId: number;
  qualifiers?: number;
  version?: number;
  level?: number;
  task?: number;
  opcode?: number;
  /** Keywords as Windows renders them: `0x8020000000000000`. */
  keywords?: string;
  /** TimeCreated/@SystemTime, ISO 8601 with 100 ns precision. */
  timeCreated?: string;
  eventRecordId?: number;
  activityId?: string;
  relatedActivityId?: string;
  processId?: number;
  threadId?: number;
  processorId?: number;
  sessionId?: number;
  channel: string;
  computer: string;
  /** Security/@UserID, a SID. */
  userId?: string;
}

/** A `<Data>` value; unnamed `<Data>` elements are gathered in order under the key `Data`. */
export type EventDataValue = string | string[];

/** A UserData subtree: an element with only text is its text, otherwise an object of its children. */
export type UserDataValue = string | UserDataObject | UserDataValue[];
export interface UserDataObject {
  [name: string]: UserDataValue;
}

/** One event record. */
export interface EvtxEvent {
  /** The record identifier from the record header. */
  recordId: number;
  /** When the event was created (System/TimeCreated), else when the record was written; ISO 8601. */
  timestamp: string;
  /** When the record was written to the log (record header), ISO 8601. */
  writtenTime: string;
  system: EventSystem;
  eventData?: Record<string, EventDataValue>;
  userData?: UserDataObject;
  /** Rendering information forwarded with the event (message text, level and task names). */
  renderingInfo?: Record<string, string>;
  /** The XML text of the record, when asked for. */
  xml?: string;
  /** True for a record found past what the file or chunk header counts. */
  recovered?: true;
}

type Section = 'none' | 'system' | 'eventData' | 'userData' | 'renderingInfo' | 'other';

interface Frame {
  name: string;
  text: string;
  attributes: Record<string, string> | undefined;
  children: UserDataObject | undefined;
}

const numericSystemText: Record<string, keyof EventSystem> = {
  EventID: 'eventId',
  Version: 'version',
  Level: 'level',
  Task: 'task',
  Opcode: 'opcode',
  EventRecordID: 'eventRecordId',
};
const stringSystemText: Record<string, keyof EventSystem> = {
  Keywords: 'keywords',
  Channel: 'channel',
  Computer: 'computer',
};
const systemAttributes: Record<string, Record<string, { key: keyof EventSystem; numeric: boolean }>> = {
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

/** Builds an {@link EvtxEvent} from the sink calls of one record. */
export class EventBuilder implements XmlSink {
  private stack: Frame[] = [];
  private section: Section = 'none';
  private system: Record<string, string | number> = {};
  private eventData: Record<string, EventDataValue> | undefined;
  private userData: UserDataObject | undefined;
  private renderingInfo: Record<string, string> | undefined;

  startElement(name: string): void {
    const depth = this.stack.length;
    if (depth === 1) {
      this.section =
        name === 'System'
          ? 'system'
          : name === 'EventData'
            ? 'eventData'
            : name === 'UserData'
              ? 'userData'
              : name === 'RenderingInfo'
                ? 'renderingInfo'
                : 'other';
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
      if (target) this.system[target.key] = target.numeric ? toNumber(value) : value;
      return;
    }
    (frame.attributes ??= {})[name] = value;
  }

  text(value: string): void {
    const frame = this.stack[this.stack.length - 1];
    if (frame) frame.text += value;
  }

  cdata(value: string): void {
    this.text(value);
  }

  entityRef(name: string): void {
    this.text(entityText(name));
  }

  pi(): void {}

  endElement(): void {
    const frame = this.stack.pop();
    if (!frame) return;
    const depth = this.stack.length; // depth of the closed element: 0 is <Event>
    switch (this.section) {
      case 'system':
        if (depth === 2) this.closeSystemField(frame);
        break;
      case 'eventData':
        if (depth === 2) this.closeData(frame);
        break;
      case 'userData':
        if (depth >= 2) this.closeUserData(frame, depth);
        break;
      case 'renderingInfo':
        if (depth === 2 && frame.text !== '') (this.renderingInfo ??= {})[frame.name] = frame.text;
        break;
      default:
        break;
    }
    if (depth === 1) this.section = 'none';
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
    const data = this.eventData as Record<string, EventDataValue>;
    const name = frame.attributes?.Name;
    if (name !== undefined) {
      data[name] = frame.text;
      return;
    }
    // Unnamed <Data> (classic events' insertion strings) and <Binary> keep their element name.
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
      if (frame.attributes) value['#attributes'] = frame.attributes as UserDataObject;
    } else if (frame.attributes && depth > 2) {
      value = { '#attributes': frame.attributes as UserDataObject, '#text': frame.text };
    } else value = frame.text;
    const parent = depth === 2 ? undefined : this.stack[this.stack.length - 1];
    const target = parent ? (parent.children ??= {}) : (this.userData as UserDataObject);
    const existing = target[frame.name];
    if (existing === undefined) target[frame.name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else target[frame.name] = [existing, value];
  }

  /** The finished event; fields the record lacked are left out. */
  build(recordId: number, writtenTime: string): EvtxEvent {
    const system = this.system as unknown as EventSystem;
    system.provider ??= '';
    system.eventId ??= 0;
    system.channel ??= '';
    system.computer ??= '';
    const event: EvtxEvent = {
      recordId,
      timestamp: system.timeCreated ?? writtenTime,
      writtenTime,
      system,
    };
    if (this.eventData) event.eventData = this.eventData;
    if (this.userData) event.userData = this.userData;
    if (this.renderingInfo) event.renderingInfo = this.renderingInfo;
    return event;
  }
}

function toNumber(text: string): number {
  const n = Number(text);
  return Number.isNaN(n) ? 0 : n;
}
