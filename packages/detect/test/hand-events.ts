// Hand-written Windows events (plain objects of the EvtxEvent shape) and rules compiled from
// YAML text with the built-in Windows pipeline, shared by the detect tests.
import type { EvtxEvent, UserDataObject } from '@palisade/evtx';
import { loadSigmaText, type Placeholders, type SigmaDocument, windowsPipeline } from '@palisade/sigma';
import { compileRuleSet, type RuleSet } from '../src/index.ts';

export const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

export interface EventSpec {
  readonly channel?: string;
  readonly eventId?: number;
  readonly data?: Record<string, string | string[]>;
  readonly userData?: UserDataObject;
  /** ISO 8601; defaults to 2024-03-05T10:20:30Z. */
  readonly time?: string;
  readonly computer?: string;
  readonly recordId?: number;
}

/** An event as the EVTX reader would give it. */
export function windowsEvent(spec: EventSpec): EvtxEvent {
  const time = spec.time ?? '2024-03-05T10:20:30.0000000Z';
  const event: EvtxEvent = {
    recordId: spec.recordId ?? 1,
    timestamp: time,
    writtenTime: time,
    system: {
      provider:
        spec.channel === 'Security' ? 'Microsoft-Windows-Security-Auditing' : 'Microsoft-Windows-Sysmon',
      eventId: spec.eventId ?? 1,
      channel: spec.channel ?? SYSMON,
      computer: spec.computer ?? 'WS01.corp.example',
      timeCreated: time,
      eventRecordId: spec.recordId ?? 1,
      processId: 3120,
      userId: 'S-1-5-18',
    },
  };
  if (spec.data) event.eventData = spec.data;
  if (spec.userData) event.userData = spec.userData;
  return event;
}

/** A Sysmon process creation (event 1) with these EventData values. */
export function sysmonProcess(data: Record<string, string | string[]>): EvtxEvent {
  return windowsEvent({ data });
}

/** Loads YAML rule text; a diagnostic fails the test, since every rule here is meant to load. */
export function loadRules(text: string, placeholders: Placeholders = {}): SigmaDocument[] {
  const { documents, diagnostics } = loadSigmaText(text, 'test.yml', { placeholders });
  if (diagnostics.length > 0) throw new Error(`rules did not load: ${JSON.stringify(diagnostics)}`);
  return documents;
}

/** Loads and compiles YAML rule text with the built-in Windows pipeline. */
export function compileRules(text: string, placeholders: Placeholders = {}): RuleSet {
  return compileRuleSet(loadRules(text, placeholders), windowsPipeline());
}
