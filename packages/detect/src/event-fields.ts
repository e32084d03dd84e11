// How detections see an event: Sigma field names (EventData names, System fields joined
// with underscores as the Sigma specification says, UserData leaves) mapped to their values.
import type { EvtxEvent, UserDataValue } from '@palisade/evtx';

export type FieldValue = string | readonly string[];

/** A read-only view of one event's fields, built once and shared by every rule. */
export interface EventFields {
  readonly channel: string;
  readonly eventId: number;
  /** ISO 8601 time of the event. */
  readonly timestamp: string;
  get(field: string): FieldValue | undefined;
  /** Every value of the event, for keyword searches. */
  values(): readonly string[];
  /** `value.toLowerCase()`, computed once per event for each value. */
  lower(value: string): string;
}

/** A cache of lower-cased strings, for one event's case-insensitive tests. */
export function lowerCache(): (value: string) => string {
  let cache: Map<string, string> | undefined;
  return (value) => {
    cache ??= new Map();
    let lowered = cache.get(value);
    if (lowered === undefined) {
      lowered = value.toLowerCase();
      cache.set(value, lowered);
    }
    return lowered;
  };
}

const systemFields: readonly [string, (s: EvtxEvent['system']) => string | number | undefined][] = [
  ['EventID', (s) => s.eventId],
  ['Channel', (s) => s.channel],
  ['Computer', (s) => s.computer],
  ['Provider_Name', (s) => s.provider],
  ['Provider_Guid', (s) => s.providerGuid],
  ['Provider_EventSourceName', (s) => s.eventSourceName],
  ['EventID_Qualifiers', (s) => s.qualifiers],
  ['Version', (s) => s.version],
  ['Level', (s) => s.level],
  ['Task', (s) => s.task],
  ['Opcode', (s) => s.opcode],
  ['Keywords', (s) => s.keywords],
  ['TimeCreated_SystemTime', (s) => s.timeCreated],
  ['EventRecordID', (s) => s.eventRecordId],
  ['Correlation_ActivityID', (s) => s.activityId],
  ['Correlation_RelatedActivityID', (s) => s.relatedActivityId],
  ['Execution_ProcessID', (s) => s.processId],
  ['Execution_ThreadID', (s) => s.threadId],
  ['Security_UserID', (s) => s.userId],
];

/** The fields of a parsed EVTX event. EventData and UserData names win over System names. */
export function evtxEventFields(event: EvtxEvent): EventFields {
  let map: Map<string, FieldValue> | undefined;
  let lower: Map<string, FieldValue> | undefined;
  let all: string[] | undefined;
  const seen = new Set<FieldValue>();
  const build = (): Map<string, FieldValue> => {
    const m = new Map<string, FieldValue>();
    const s = event.system;
    for (const [name, read] of systemFields) {
      const v = read(s);
      if (v !== undefined) m.set(name, String(v));
    }
    if (event.userData) flattenUserData(event.userData, m);
    if (event.eventData) {
      for (const [k, v] of Object.entries(event.eventData)) {
        m.set(k, v);
        // Sigma names fields "as they appear in the log source with all spaces stripped".
        if (k.includes(' ')) {
          const compact = k.replaceAll(' ', '');
          if (!(compact in event.eventData)) m.set(compact, v);
        }
      }
    }
    return m;
  };
  return {
    channel: event.system.channel,
    eventId: event.system.eventId,
    timestamp: event.timestamp,
    lower: lowerCache(),
    get(field: string) {
      map ??= build();
      const v = map.get(field);
      if (v !== undefined) return v;
      // Field names in rules and logs differ in case now and then (e.g. `Hashes` vs `hashes`).
      lower ??= new Map([...map].map(([k, x]) => [k.toLowerCase(), x]));
      return lower.get(field.toLowerCase());
    },
    values() {
      map ??= build();
      // Keyword searches look at each value once, even when it is listed under two names.
      all ??= [...map.values()]
        .filter((v) => !seen.has(v) && seen.add(v))
        .flatMap((v) => (typeof v === 'string' ? [v] : [...v]));
      return all;
    },
  };
}

// UserData leaves are addressed by their element name, the last part of their path.
function flattenUserData(value: UserDataValue, out: Map<string, FieldValue>, name?: string): void {
  if (typeof value === 'string') {
    if (name !== undefined) out.set(name, value);
    return;
  }
  if (Array.isArray(value)) {
    const strings = value.filter((v): v is string => typeof v === 'string');
    if (name !== undefined && strings.length === value.length) out.set(name, strings);
    else for (const v of value) flattenUserData(v, out, name);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === '#attributes') {
      for (const [a, x] of Object.entries(v as Record<string, string>)) if (a !== 'xmlns') out.set(a, x);
    } else if (k === '#text') {
      if (name !== undefined) out.set(name, v as string);
    } else flattenUserData(v, out, k);
  }
}
