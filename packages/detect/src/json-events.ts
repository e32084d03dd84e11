// Events given as JSON rather than EVTX: Windows events rendered as JSON (`{"Event":
// {"System": …, "EventData": …}}`, attributes under `#attributes`, as in SigmaHQ's regression
// data) and Palisade's own `evtx dump` JSON lines. Both become the typed EVTX event.
import type { EventDataValue, EventSystem, EvtxEvent, UserDataObject } from '@palisade/evtx';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(v: Json | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isObj(v) && '#text' in v) return text(v['#text']);
  return undefined;
}

function attr(v: Json | undefined, name: string): string | undefined {
  if (!isObj(v)) return undefined;
  const attributes = v['#attributes'];
  return isObj(attributes) ? text(attributes[name]) : undefined;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
}

// Windows JSON renderings drop the braces of GUIDs; Palisade keeps Windows' XML form.
function guid(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return /^[0-9A-Fa-f]{8}-/.test(v) ? `{${v}}` : v;
}

/** Why a JSON value is not an event, or undefined when it is one. */
export type JsonEventResult = { event: EvtxEvent } | { error: string };

/** Converts one JSON event of either supported shape. */
export function eventFromJson(value: unknown, index: number): JsonEventResult {
  if (!isObj(value as Json)) return { error: 'expected a JSON object' };
  const obj = value as Obj;
  if (isObj(obj.system)) return fromPalisade(obj);
  const event = obj.Event;
  if (!isObj(event))
    return { error: "expected an object with 'Event' (Windows JSON) or 'system' (palisade evtx dump)" };
  const s = event.System;
  if (!isObj(s)) return { error: "'Event' has no 'System' object" };
  const system: { -readonly [K in keyof EventSystem]: EventSystem[K] } = {
    provider: attr(s.Provider, 'Name') ?? '',
    eventId: num(text(s.EventID)) ?? 0,
    channel: text(s.Channel) ?? '',
    computer: text(s.Computer) ?? '',
  };
  const set = <K extends keyof EventSystem>(key: K, v: EventSystem[K] | undefined) => {
    if (v !== undefined) system[key] = v;
  };
  set('providerGuid', guid(attr(s.Provider, 'Guid')));
  set('eventSourceName', attr(s.Provider, 'EventSourceName'));
  set('qualifiers', num(attr(s.EventID, 'Qualifiers')));
  set('version', num(text(s.Version)));
  set('level', num(text(s.Level)));
  set('task', num(text(s.Task)));
  set('opcode', num(text(s.Opcode)));
  set('keywords', text(s.Keywords));
  set('timeCreated', attr(s.TimeCreated, 'SystemTime'));
  set('eventRecordId', num(text(s.EventRecordID)));
  set('activityId', guid(attr(s.Correlation, 'ActivityID')));
  set('relatedActivityId', guid(attr(s.Correlation, 'RelatedActivityID')));
  set('processId', num(attr(s.Execution, 'ProcessID')));
  set('threadId', num(attr(s.Execution, 'ThreadID')));
  set('userId', attr(s.Security, 'UserID'));
  const timestamp = system.timeCreated ?? '';
  const out: EvtxEvent = {
    recordId: system.eventRecordId ?? index + 1,
    timestamp,
    writtenTime: timestamp,
    system,
  };
  if (isObj(event.EventData)) out.eventData = eventData(event.EventData);
  if (isObj(event.UserData)) out.userData = userData(event.UserData) as UserDataObject;
  return { event: out };
}

function eventData(data: Obj): Record<string, EventDataValue> {
  const out: Record<string, EventDataValue> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === '#attributes') continue;
    if (Array.isArray(v)) out[k] = v.map((x) => text(x) ?? '');
    else if (isObj(v) && Array.isArray(v['#text'])) out[k] = (v['#text'] as Json[]).map((x) => text(x) ?? '');
    else out[k] = text(v) ?? '';
  }
  return out;
}

function userData(v: Json): UserDataObject | string {
  if (!isObj(v)) return text(v) ?? '';
  const out: UserDataObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '#attributes' && isObj(x)) {
      const attrs: UserDataObject = {};
      for (const [a, y] of Object.entries(x)) attrs[a] = text(y) ?? '';
      out[k] = attrs;
    } else if (Array.isArray(x)) out[k] = x.map((y) => userData(y));
    else out[k] = userData(x);
  }
  return out;
}

function fromPalisade(obj: Obj): JsonEventResult {
  const s = obj.system as Obj;
  if (typeof s.eventId !== 'number' || typeof s.channel !== 'string') {
    return { error: "'system' needs a numeric 'eventId' and a 'channel'" };
  }
  // `palisade evtx dump` output is the typed event itself, plus the file it came from.
  const { file: _file, ...event } = obj;
  return { event: event as unknown as EvtxEvent };
}
