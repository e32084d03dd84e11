// Event XML as Windows renders it, read into the typed event: the recorded channel output of
// fixtures/windows-channel/ compared, event by event and key by key, with what the EVTX reader gives
// for the same records of the EVTX files it was built from; broken XML named with its offset.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type EvtxEvent, readEvtx } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { eventFromXml, sliceEvents } from './event-xml.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/windows-channel');
const samples = resolve(import.meta.dirname, '../../../../../shared/corpus/evtx-attack-samples');
const skip = existsSync(samples) ? undefined : `EVTX-ATTACK-SAMPLES not found at ${samples}`;
if (skip) console.log(`skipping the EVTX comparison of event-xml: ${skip}`);

const pairs = [
  [
    'security.xml',
    'Privilege Escalation/samaccount_spoofing_CVE-2021-42287_CVE-2021-42278_DC_securitylogs.evtx',
  ],
  ['sysmon.xml', 'Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx'],
] as const;

describe('eventFromXml', () => {
  describe.skipIf(skip !== undefined).each(pairs)('%s', (fixture, evtx) => {
    it('gives the EVTX reader’s event for each record (EventRecordID as record id, TimeCreated as written time)', async () => {
      const text = readFileSync(join(fixtures, fixture), 'utf8');
      const parsed = sliceEvents(text).map((s) => eventFromXml(s.xml));
      const expected: EvtxEvent[] = [];
      for await (const event of readEvtx(join(samples, evtx))) {
        const time = event.system.timeCreated ?? event.writtenTime;
        expected.push({ ...event, recordId: event.system.eventRecordId ?? 0, writtenTime: time });
      }
      expect(parsed.length).toBe(expected.length);
      for (const [i, result] of parsed.entries()) {
        expect(result.kind, `event ${i}`).toBe('event');
        // Compared as JSON text: the same keys in the same order, not only equal values.
        if (result.kind === 'event') expect(JSON.stringify(result.event)).toBe(JSON.stringify(expected[i]));
      }
    });
  });

  it('reads entities, character references, CDATA and either quote', () => {
    const result = eventFromXml(
      `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name='P&amp;Q'/><EventID Qualifiers="16384">7036</EventID><TimeCreated SystemTime='2015-01-13T19:04:55.515625000Z'/><EventRecordID>12</EventRecordID><Channel>System</Channel><Computer>pc</Computer></System><EventData><Data>a &lt;b&gt; &#233;&#x20AC;</Data><Data><![CDATA[<raw>]]></Data><Binary>00FF</Binary></EventData></Event>`,
    );
    expect(result).toEqual({
      kind: 'event',
      event: {
        recordId: 12,
        timestamp: '2015-01-13T19:04:55.5156250Z',
        writtenTime: '2015-01-13T19:04:55.5156250Z',
        system: {
          provider: 'P&Q',
          eventId: 7036,
          qualifiers: 16384,
          timeCreated: '2015-01-13T19:04:55.5156250Z',
          eventRecordId: 12,
          channel: 'System',
          computer: 'pc',
        },
        eventData: { Data: ['a <b> é€', '<raw>'], Binary: '00FF' },
      },
    });
  });

  const cut = "<Event><System><EventID>1</EventID></System><EventData><Data Name='x'>cut";
  const badAttribute = '<Event><System><Provider Name=x/></System></Event>';
  it.each([
    [cut, 'expected </Data>, found the end of the text', cut.length],
    ['<Event><System><EventID>1</EventID></System></Evnt>', 'expected </Event>, found </Evnt>', 44],
    [
      '<Event><System><Channel>a & b</Channel></System></Event>',
      'expected an entity (&name; or &#n;), found "a & b"',
      24,
    ],
    [
      badAttribute,
      'expected an attribute name="value" or the end of <Provider>, found "Name=x/></System></Event>"',
      badAttribute.indexOf('Name'),
    ],
  ])('names what is wrong and where: %s', (xml, message, offset) => {
    expect(eventFromXml(xml)).toEqual({ kind: 'problem', message, offset });
  });

  it('slices the events out of an <Events> document, and a cut-off last one as it is', () => {
    const text =
      '<Events>\r\n<Event a="1"><System/></Event>\r\n<EventX/><Event>\r\n<System></System></Event>\r\n<Event><Sys';
    const second = '<Event>\r\n<System></System></Event>';
    expect(sliceEvents(text)).toEqual([
      { xml: '<Event a="1"><System/></Event>', offset: text.indexOf('<Event a') },
      { xml: second, offset: text.indexOf(second) },
      { xml: '<Event><Sys', offset: text.lastIndexOf('<Event') },
    ]);
  });
});
