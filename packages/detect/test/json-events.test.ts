// Events from JSON files: splitting a text into JSON values whatever the layout (one value, an
// array, JSON lines, pretty-printed objects back to back), reading them as events, and going on
// past a corrupt value, which is reported with its line.
import type { EvtxEvent } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { eventFromJson, readJsonEvents, type ScanFileProblem, splitJsonValues } from '../src/index.ts';
import { windowsEvent } from './hand-events.ts';

const event = (recordId: number): EvtxEvent =>
  windowsEvent({
    recordId,
    time: `2024-03-05T10:20:${String(recordId).padStart(2, '0')}.0000000Z`,
    data: { N: `${recordId}` },
  });

function read(text: string): { records: number[]; problems: ScanFileProblem[] } {
  const problems: ScanFileProblem[] = [];
  const records = [...readJsonEvents(text, 'events.json', (p) => problems.push(p))].map((e) => e.recordId);
  return { records, problems };
}

describe('splitJsonValues', () => {
  it('gives a single pretty-printed object as one value', () => {
    const text = JSON.stringify({ a: { b: [1, 2] } }, null, 2);
    expect([...splitJsonValues(text)]).toEqual([{ text, line: 1 }]);
  });

  it('gives an array as one value', () => {
    const text = `\n\n[\n  {"a": 1},\n  {"a": 2}\n]\n`;
    expect([...splitJsonValues(text)]).toEqual([{ text: '[\n  {"a": 1},\n  {"a": 2}\n]', line: 3 }]);
  });

  it('gives JSON lines one value a line, skipping blank lines', () => {
    const text = '{"a": 1}\n{"a": 2}\n\n{"a": 3}\n';
    expect([...splitJsonValues(text)]).toEqual([
      { text: '{"a": 1}', line: 1 },
      { text: '{"a": 2}', line: 2 },
      { text: '{"a": 3}', line: 4 },
    ]);
  });

  it('gives pretty-printed objects back to back one by one, with their first lines', () => {
    const text = '{\n  "a": 1\n}\n{\n  "a": {\n    "b": 2\n  }\n}{"c": 3}\n';
    expect([...splitJsonValues(text)]).toEqual([
      { text: '{\n  "a": 1\n}', line: 1 },
      { text: '{\n  "a": {\n    "b": 2\n  }\n}', line: 4 },
      { text: '{"c": 3}', line: 8 },
    ]);
  });

  it('is not misled by brackets and escaped quotes inside strings', () => {
    const text = '{"a": "}{[\\"]\\\\"}\n{"b": "\\"{"}\n';
    expect([...splitJsonValues(text)]).toEqual([
      { text: '{"a": "}{[\\"]\\\\"}', line: 1 },
      { text: '{"b": "\\"{"}', line: 2 },
    ]);
  });

  it('gives bare scalars a line each, and reads Windows line ends', () => {
    expect([...splitJsonValues('42\r\n"x"\r\n{"a": 1}\r\n')]).toEqual([
      { text: '42\r', line: 1 },
      { text: '"x"\r', line: 2 },
      { text: '{"a": 1}', line: 3 },
    ]);
  });
});

describe('readJsonEvents', () => {
  const three = [event(1), event(2), event(3)];

  it('reads a single object', () => {
    expect(read(JSON.stringify(event(7), null, 2))).toEqual({ records: [7], problems: [] });
  });

  it('reads an array of events', () => {
    expect(read(JSON.stringify(three, null, 2))).toEqual({ records: [1, 2, 3], problems: [] });
  });

  it('reads JSON lines', () => {
    expect(read(three.map((e) => JSON.stringify(e)).join('\n'))).toEqual({
      records: [1, 2, 3],
      problems: [],
    });
  });

  it('reads pretty-printed objects back to back', () => {
    expect(read(three.map((e) => JSON.stringify(e, null, 2)).join('\n'))).toEqual({
      records: [1, 2, 3],
      problems: [],
    });
  });

  it('gives back the events as they were written', () => {
    const [first] = [...readJsonEvents(JSON.stringify(event(1)), 'events.json', () => {})];
    expect(first).toEqual(event(1));
  });

  it('reports a corrupt value in the middle with its line, and reads the others', () => {
    const lines = [JSON.stringify(event(1)), '{"recordId": 2, "system": tru}', JSON.stringify(event(3))];
    expect(read(lines.join('\n'))).toEqual({
      records: [1, 3],
      problems: [
        {
          file: 'events.json',
          severity: 'error',
          // The parser's own words follow; their wording differs between Node versions.
          message: expect.stringMatching(/^line 2: invalid JSON: /),
        },
      ],
    });
  });

  it('reads on past a JSON line cut short in the middle', () => {
    const cut = JSON.stringify(event(2)).slice(0, 40);
    const lines = [JSON.stringify(event(1)), cut, JSON.stringify(event(3)), JSON.stringify(event(4))];
    const { records, problems } = read(lines.join('\n'));
    expect(records).toEqual([1, 3, 4]);
    expect(problems).toEqual([
      { file: 'events.json', severity: 'error', message: expect.stringMatching(/^line 2: invalid JSON: /) },
    ]);
  });

  it('reads on past a pretty-printed object cut short, to the next one', () => {
    const cut = JSON.stringify(event(2), null, 2).split('\n').slice(0, 5).join('\n');
    const text = [JSON.stringify(event(1), null, 2), cut, JSON.stringify(event(3), null, 2)].join('\n');
    const { records, problems } = read(text);
    expect(records).toEqual([1, 3]);
    // The first object takes as many lines as the cut one is long before it was cut.
    const secondLine = JSON.stringify(event(1), null, 2).split('\n').length + 1;
    expect(problems.map((p) => p.message.split(':')[0])).toEqual([`line ${secondLine}`]);
  });

  it('reports JSON values that are not events, each with its line', () => {
    const text = ['42', JSON.stringify(event(1)), '{"what": 1}', `[${JSON.stringify(event(2))}, "x"]`].join(
      '\n',
    );
    expect(read(text)).toEqual({
      records: [1, 2],
      problems: [
        { file: 'events.json', severity: 'error', message: 'line 1: expected a JSON object' },
        {
          file: 'events.json',
          severity: 'error',
          message: "line 3: expected an object with 'Event' (Windows JSON) or 'system' (palisade evtx dump)",
        },
        { file: 'events.json', severity: 'error', message: 'line 4: expected a JSON object' },
      ],
    });
  });
});

describe('eventFromJson', () => {
  it('reads a Windows event rendered as JSON, attributes under #attributes', () => {
    const windowsJson = {
      Event: {
        '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
        System: {
          Provider: {
            '#attributes': { Name: 'Service Control Manager', Guid: '555908D1-A6D7-4695-8E1E-26931D2012F4' },
          },
          EventID: { '#attributes': { Qualifiers: 16384 }, '#text': 7045 },
          Version: 0,
          Level: 4,
          Task: 0,
          Opcode: 0,
          Keywords: '0x8080000000000000',
          TimeCreated: { '#attributes': { SystemTime: '2024-03-05T10:20:30.123456Z' } },
          EventRecordID: 42,
          Correlation: null,
          Execution: { '#attributes': { ProcessID: 640, ThreadID: 4000 } },
          Channel: 'System',
          Computer: 'WS01.corp.example',
          Security: { '#attributes': { UserID: 'S-1-5-18' } },
        },
        EventData: { ServiceName: 'evil', ImagePath: 'C:\\evil.exe', Empty: null },
      },
    };
    expect(eventFromJson(windowsJson, 0)).toEqual({
      event: {
        recordId: 42,
        timestamp: '2024-03-05T10:20:30.123456Z',
        writtenTime: '2024-03-05T10:20:30.123456Z',
        system: {
          provider: 'Service Control Manager',
          // Windows' XML form keeps the braces that JSON renderings drop.
          providerGuid: '{555908D1-A6D7-4695-8E1E-26931D2012F4}',
          eventId: 7045,
          qualifiers: 16384,
          version: 0,
          level: 4,
          task: 0,
          opcode: 0,
          keywords: '0x8080000000000000',
          timeCreated: '2024-03-05T10:20:30.123456Z',
          eventRecordId: 42,
          processId: 640,
          threadId: 4000,
          channel: 'System',
          computer: 'WS01.corp.example',
          userId: 'S-1-5-18',
        },
        eventData: { ServiceName: 'evil', ImagePath: 'C:\\evil.exe', Empty: '' },
      },
    });
  });

  it('refuses an event without System', () => {
    expect(eventFromJson({ Event: { EventData: {} } }, 0)).toEqual({
      error: "'Event' has no 'System' object",
    });
    expect(eventFromJson({ system: { eventId: '1', channel: 'x' } }, 0)).toEqual({
      error: "'system' needs a numeric 'eventId' and a 'channel'",
    });
  });
});
