// Positive cases on synthetic records (samples.ts): every value type's text, arrays, absent
// optional values, a nested BinXML value, the rarer tokens, and one whole record's XML against
// a golden written by hand, which libevtx's evtxexport is also checked against.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EvtxEvent, parseEvtx } from '../src/index.ts';
import { evtxexportMissing } from './corpus.ts';
import { ChunkBuilder, evtxFile } from './evtx-builder.ts';
import { addLogonRecord, addTokenRecord, addUserDataRecord, addValueRecord, valueCases } from './samples.ts';

const golden = readFileSync(join(import.meta.dirname, 'goldens/logon-4624.xml'), 'utf8');

/** The one event of a file holding one record written by `add`, with its XML. */
function only(add: (c: ChunkBuilder, id: number) => void): { event: EvtxEvent; file: Uint8Array } {
  const c = new ChunkBuilder();
  add(c, 1);
  const file = evtxFile([c.finish()]);
  const { events, diagnostics } = parseEvtx(file, { xml: true });
  expect(diagnostics).toEqual([]);
  expect(events).toHaveLength(1);
  return { event: events[0] as EvtxEvent, file };
}

describe('value types', () => {
  const { event } = only(addValueRecord);

  it('renders every type as its text; arrays gather under Data; the absent optional is left out', () => {
    expect(event.eventData).toEqual({
      ...Object.fromEntries(valueCases.map(([name, , , text]) => [name, text])),
      // STRING_ARRAY then UINT16_ARRAY, item by item; there is no Binary key.
      Data: ['alpha', 'beta', '1', '2', '65535'],
    });
  });

  it('writes one <Data> per array item and no <Binary> element', () => {
    expect(event.xml).toBe(
      [
        '<Event>',
        '  <EventData>',
        ...valueCases.map(([name, , , text]) => `    <Data Name="${name}">${text}</Data>`),
        ...['alpha', 'beta', '1', '2', '65535'].map((item) => `    <Data>${item}</Data>`),
        '  </EventData>',
        '</Event>',
      ].join('\n'),
    );
  });
});

describe('a Security logon event', () => {
  const { event, file } = only(addLogonRecord);

  it('renders the XML in goldens/logon-4624.xml', () => {
    expect(`${event.xml}\n`).toBe(golden);
  });

  it('fills the typed System block from the same values', () => {
    const { xml: _, ...typed } = event;
    expect(typed).toEqual({
      recordId: 1,
      timestamp: '2019-08-14T14:06:44.4956748Z',
      writtenTime: '2019-08-14T14:06:44.4956748Z',
      system: {
        provider: 'Microsoft-Windows-Security-Auditing',
        providerGuid: '{54849625-5478-4994-A5BA-3E3B0328C30D}',
        eventId: 4624,
        version: 2,
        level: 0,
        task: 12544,
        opcode: 0,
        keywords: '0x8020000000000000',
        timeCreated: '2019-08-14T14:06:44.4956748Z',
        eventRecordId: 7,
        processId: 628,
        threadId: 5132,
        channel: 'Security',
        computer: 'DC01.example.local',
      },
      eventData: {
        TargetUserSid: 'S-1-5-18',
        TargetUserName: 'bob <admin> & co',
        LogonType: '3',
        TargetLogonId: '0x3e7',
      },
    });
  });

  const missing = evtxexportMissing();
  if (missing && process.env.CI) throw new Error(`golden check cannot run in CI: ${missing}`);
  it.skipIf(missing !== undefined)('matches what evtxexport (libevtx) writes for the same file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-golden-'));
    try {
      const path = join(dir, 'logon.evtx');
      writeFileSync(path, file);
      const run = spawnSync('evtxexport', ['-f', 'xml', path], { encoding: 'utf8' });
      const xml = run.stdout.slice(run.stdout.indexOf('<Event'), run.stdout.lastIndexOf('</Event>') + 8);
      // The two documented differences (evtxexport-differences.md): nine fractional digits,
      // zero-padded hex.
      const normalised = xml
        .replace(/(\.\d{7})00Z/g, '$1Z')
        .replace(/0x0+([0-9a-f]+)</g, (_m, digits: string) => `0x${digits}<`);
      expect(`${normalised}\n`).toBe(golden);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a UserData event', () => {
  const { event } = only(addUserDataRecord);

  it('expands the BinXML value and its own template instance in place', () => {
    expect(event.userData).toEqual({
      LogFileCleared: {
        SubjectUserName: 'bob',
        SubjectDomainName: 'CORP',
        '#attributes': { xmlns: 'http://manifests.microsoft.com/win/2004/08/windows/eventlog' },
      },
    });
    expect(event.xml).toBe(
      [
        '<Event>',
        '  <System>',
        '    <EventID>1102</EventID>',
        '  </System>',
        '  <UserData>',
        '    <LogFileCleared xmlns="http://manifests.microsoft.com/win/2004/08/windows/eventlog">',
        '      <SubjectUserName>bob</SubjectUserName>',
        '      <SubjectDomainName>CORP</SubjectDomainName>',
        '    </LogFileCleared>',
        '  </UserData>',
        '</Event>',
      ].join('\n'),
    );
  });
});

describe('rarer tokens', () => {
  const { event } = only(addTokenRecord);

  it('resolves character references, keeps entity references and CDATA, and writes the PI', () => {
    // &#x263A; is U+263A WHITE SMILING FACE; &amp; stands for "&" (XML 1.0 §4.1, §4.6).
    expect(event.eventData).toEqual({ Ref: 'a\u263a&b', Raw: '<not markup>' });
    expect(event.xml).toBe(
      [
        '<Event>',
        '  <EventData>',
        '    <Data Name="Ref">a\u263a&amp;b</Data>',
        '    <Data Name="Raw"><![CDATA[<not markup>]]><?xsl href?></Data>',
        '  </EventData>',
        '</Event>',
      ].join('\n'),
    );
  });
});
