// Sigma correlations (event_count, value_count, temporal, temporal_ordered) over hand-written
// events, checked against the Sigma correlation rules specification: thresholds, timespan,
// group-by, aliases, events arriving out of order, `generate` in the offline scan, and the
// events each alert carries.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvtxEvent } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { type Alert, CorrelationEngine, evtxEventFields, type RuleSet, scanFiles } from '../src/index.ts';
import { compileRules, windowsEvent } from './hand-events.ts';

const base = Date.UTC(2024, 2, 5, 10, 0, 0);
const at = (seconds: number) => new Date(base + seconds * 1000).toISOString();

const baseRules = `title: Failed logon
id: 5a1e0000-0000-4000-8000-000000004625
name: failed_logon
logsource: { product: windows, service: security }
detection:
  selection:
    EventID: 4625
  condition: selection
---
title: Successful logon
id: 5a1e0000-0000-4000-8000-000000004624
name: successful_logon
logsource: { product: windows, service: security }
detection:
  selection:
    EventID: 4624
  condition: selection
---
title: Whoami
id: 5a1e0000-0000-4000-8000-000000000001
name: whoami
logsource: { product: windows, category: process_creation }
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
`;

/** A Security logon event (4624 success, 4625 failure) `seconds` after the base time. */
function logon(
  eventId: 4624 | 4625,
  seconds: number,
  recordId: number,
  data: Record<string, string>,
): EvtxEvent {
  return windowsEvent({ channel: 'Security', eventId, time: at(seconds), recordId, data });
}
const failed = (s: number, id: number, data: Record<string, string>) => logon(4625, s, id, data);
const success = (s: number, id: number, data: Record<string, string>) => logon(4624, s, id, data);
function whoami(seconds: number, recordId: number, data: Record<string, string>): EvtxEvent {
  return windowsEvent({
    time: at(seconds),
    recordId,
    data: { Image: 'C:\\Windows\\System32\\whoami.exe', ...data },
  });
}

interface Summary {
  readonly title: string;
  readonly group: Readonly<Record<string, string>> | undefined;
  readonly records: readonly (number | undefined)[];
  readonly timestamp: string;
}

const summary = (a: Alert): Summary => ({
  title: a.title,
  group: a.group,
  records: a.events.map((e) => e.recordId),
  timestamp: a.timestamp,
});

/** Feeds events, in the order given, to the rule set and a correlation engine, as the server does. */
function correlate(ruleSet: RuleSet, events: readonly EvtxEvent[]): Summary[] {
  const engine = new CorrelationEngine(ruleSet.correlations);
  const alerts: Alert[] = [];
  for (const event of events) {
    const fields = evtxEventFields(event);
    for (const index of ruleSet.match(fields)) {
      const rule = ruleSet.rules[index];
      if (!rule) continue;
      alerts.push(
        ...engine.push(rule, fields, {
          recordId: event.recordId,
          timestamp: event.timestamp,
          channel: event.system.channel,
          eventId: event.system.eventId,
          computer: event.system.computer,
        }),
      );
    }
  }
  alerts.push(...engine.flush());
  return alerts.map(summary);
}

const withCorrelation = (correlation: string) => compileRules(`${baseRules}---\n${correlation}`);

describe('event_count', () => {
  // "Counts events occurring in the given time frame ... for each group specified by group-by separately."
  const rules = withCorrelation(`title: Brute force
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 1m
  condition: { gte: 3 }
`);
  const a = { IpAddress: '10.0.0.5', TargetUserName: 'alice' };
  const b = { IpAddress: '10.0.0.6', TargetUserName: 'alice' };

  it('alerts when the count is reached within the timespan, with exactly those events', () => {
    expect(correlate(rules, [failed(0, 1, a), failed(20, 2, a), failed(40, 3, a)])).toEqual([
      { title: 'Brute force', group: { IpAddress: '10.0.0.5' }, records: [1, 2, 3], timestamp: at(40) },
    ]);
  });

  it('does not alert below the count', () => {
    expect(correlate(rules, [failed(0, 1, a), failed(20, 2, a)])).toEqual([]);
  });

  it('does not alert when the events are spread over more than the timespan', () => {
    expect(correlate(rules, [failed(0, 1, a), failed(40, 2, a), failed(80, 3, a)])).toEqual([]);
  });

  it('counts each group apart', () => {
    const events = [failed(0, 1, a), failed(1, 2, b), failed(2, 3, a), failed(3, 4, b), failed(4, 5, b)];
    expect(correlate(rules, events)).toEqual([
      { title: 'Brute force', group: { IpAddress: '10.0.0.6' }, records: [2, 4, 5], timestamp: at(4) },
    ]);
  });

  it('counts only the referenced rules', () => {
    expect(correlate(rules, [failed(0, 1, a), success(1, 2, a), failed(2, 3, a)])).toEqual([]);
  });

  it('gives the same result when the events arrive out of order', () => {
    const inOrder = [failed(0, 1, a), failed(1, 2, b), failed(20, 3, a), failed(21, 4, b), failed(40, 5, a)];
    const expected = [
      { title: 'Brute force', group: { IpAddress: '10.0.0.5' }, records: [1, 3, 5], timestamp: at(40) },
    ];
    expect(correlate(rules, inOrder)).toEqual(expected);
    for (const order of [
      [4, 3, 2, 1, 0],
      [2, 0, 4, 1, 3],
      [1, 4, 0, 3, 2],
    ]) {
      expect(
        correlate(
          rules,
          order.map((i) => inOrder[i] as EvtxEvent),
        ),
      ).toEqual(expected);
    }
  });

  it('keeps one group apart from another whose clock is far ahead', () => {
    // A host with a wrong clock must not make other hosts' events count as too old.
    const events = [failed(0, 1, a), failed(3600, 2, b), failed(10, 3, a), failed(20, 4, a)];
    expect(correlate(rules, events)).toEqual([
      { title: 'Brute force', group: { IpAddress: '10.0.0.5' }, records: [1, 3, 4], timestamp: at(20) },
    ]);
  });

  it('counts events of several rules in one group through aliases', () => {
    const aliased = withCorrelation(`title: Activity per account
correlation:
  type: event_count
  rules: [failed_logon, whoami]
  group-by: [account]
  timespan: 1m
  condition: { gte: 3 }
  aliases:
    account:
      failed_logon: TargetUserName
      whoami: SubjectUserName
`);
    const events = [
      failed(0, 1, { TargetUserName: 'alice', SubjectUserName: 'bob' }),
      whoami(10, 2, { SubjectUserName: 'bob', TargetUserName: 'alice' }),
      whoami(20, 3, { SubjectUserName: 'alice' }),
      failed(30, 4, { TargetUserName: 'alice' }),
    ];
    // Record 2 is bob's (its SubjectUserName), although its TargetUserName is alice.
    expect(correlate(aliased, events)).toEqual([
      { title: 'Activity per account', group: { account: 'alice' }, records: [1, 3, 4], timestamp: at(30) },
    ]);
  });

  it('judges lt and lte on each timespan from a group first event, when it is over', () => {
    const rare = withCorrelation(`title: Rare logon source
correlation:
  type: event_count
  rules: [successful_logon]
  group-by: [IpAddress]
  timespan: 1m
  condition: { lte: 1 }
`);
    // 10.0.0.5 logs on once; 10.0.0.6 three times within the minute, so it is not rare.
    const events = [success(0, 1, a), success(1, 2, b), success(2, 3, b), success(3, 4, b)];
    expect(correlate(rare, events)).toEqual([
      { title: 'Rare logon source', group: { IpAddress: '10.0.0.5' }, records: [1], timestamp: at(0) },
    ]);
  });

  it('takes a range as the condition: every comparison must hold', () => {
    // Specification: a condition may combine operators, e.g. { gt: 100, lte: 200 }.
    const some = withCorrelation(`title: Two or three failures
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 1m
  condition: { gt: 1, lte: 3 }
`);
    // 10.0.0.5 fails twice (in range); 10.0.0.6 four times (above the range) in the same minute.
    const events = [
      failed(0, 1, a),
      failed(1, 2, b),
      failed(2, 3, a),
      failed(3, 4, b),
      failed(4, 5, b),
      failed(5, 6, b),
    ];
    expect(correlate(some, events)).toEqual([
      { title: 'Two or three failures', group: { IpAddress: '10.0.0.5' }, records: [1, 3], timestamp: at(2) },
    ]);
  });

  it('keeps its state bounded: entries older than the timespan are let go', () => {
    const never = withCorrelation(`title: Never
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 1m
  condition: { gte: 1000 }
`);
    const engine = new CorrelationEngine(never.correlations);
    const rule = never.rules[0];
    if (!rule) throw new Error('no rule');
    let largest = 0;
    for (let s = 0; s < 600; s += 25) {
      const event = failed(s, s, a);
      engine.push(rule, evtxEventFields(event), {
        timestamp: event.timestamp,
        channel: 'Security',
        eventId: 4625,
        computer: 'x',
      });
      largest = Math.max(largest, engine.size);
    }
    // 25 s apart with a 1 m timespan: never more than the 3 events of the last minute.
    expect(largest).toBe(3);
    expect(engine.flush()).toEqual([]);
    expect(engine.size).toBe(0);
  });
});

describe('value_count', () => {
  // "Counts values in a field defined by field ... separately for each group specified by group-by."
  const rules = withCorrelation(`title: Password spraying
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition:
    field: TargetUserName
    gte: 3
`);
  const from = (ip: string, user: string) => ({ IpAddress: ip, TargetUserName: user });

  it('alerts when enough distinct values are seen within the timespan', () => {
    const events = [
      failed(0, 1, from('10.0.0.5', 'alice')),
      failed(10, 2, from('10.0.0.5', 'alice')),
      failed(20, 3, from('10.0.0.5', 'bob')),
      failed(30, 4, from('10.0.0.5', 'carol')),
    ];
    expect(correlate(rules, events)).toEqual([
      {
        title: 'Password spraying',
        group: { IpAddress: '10.0.0.5' },
        records: [1, 2, 3, 4],
        timestamp: at(30),
      },
    ]);
  });

  it('does not count a repeated value twice', () => {
    const events = [0, 1, 2, 3].map((i) => failed(i, i + 1, from('10.0.0.5', i % 2 ? 'alice' : 'bob')));
    expect(correlate(rules, events)).toEqual([]);
  });

  it('does not alert when the values are spread over more than the timespan', () => {
    const events = [
      failed(0, 1, from('10.0.0.5', 'alice')),
      failed(200, 2, from('10.0.0.5', 'bob')),
      failed(400, 3, from('10.0.0.5', 'carol')),
    ];
    expect(correlate(rules, events)).toEqual([]);
  });

  it('counts each group apart', () => {
    const events = [
      failed(0, 1, from('10.0.0.5', 'alice')),
      failed(1, 2, from('10.0.0.6', 'bob')),
      failed(2, 3, from('10.0.0.5', 'carol')),
      failed(3, 4, from('10.0.0.6', 'dave')),
    ];
    expect(correlate(rules, events)).toEqual([]);
  });

  it('reads the group and the counted field through aliases, per rule', () => {
    const aliased = withCorrelation(`title: Accounts per address
correlation:
  type: value_count
  rules: [failed_logon, successful_logon]
  group-by: [address]
  timespan: 5m
  condition:
    field: account
    gte: 3
  aliases:
    address:
      failed_logon: IpAddress
      successful_logon: SourceAddress
    account:
      failed_logon: TargetUserName
      successful_logon: LogonAccount
`);
    const events = [
      failed(0, 1, { IpAddress: '10.0.0.5', TargetUserName: 'alice', LogonAccount: 'x' }),
      success(10, 2, { SourceAddress: '10.0.0.5', LogonAccount: 'bob', TargetUserName: 'alice' }),
      success(20, 3, { IpAddress: '10.0.0.5', LogonAccount: 'carol' }),
      failed(30, 4, { IpAddress: '10.0.0.5', TargetUserName: 'dave' }),
    ];
    // Record 3 has no SourceAddress, so it is not from 10.0.0.5 for this correlation.
    expect(correlate(aliased, events)).toEqual([
      {
        title: 'Accounts per address',
        group: { address: '10.0.0.5' },
        records: [1, 2, 4],
        timestamp: at(30),
      },
    ]);
  });

  it('gives the same result when the events arrive out of order', () => {
    const inOrder = [
      failed(0, 1, from('10.0.0.5', 'alice')),
      failed(5, 2, from('10.0.0.6', 'alice')),
      failed(10, 3, from('10.0.0.5', 'bob')),
      failed(15, 4, from('10.0.0.6', 'bob')),
      failed(20, 5, from('10.0.0.5', 'carol')),
    ];
    const expected = [
      { title: 'Password spraying', group: { IpAddress: '10.0.0.5' }, records: [1, 3, 5], timestamp: at(20) },
    ];
    expect(correlate(rules, inOrder)).toEqual(expected);
    expect(correlate(rules, [...inOrder].reverse())).toEqual(expected);
    expect(
      correlate(
        rules,
        [2, 4, 0, 3, 1].map((i) => inOrder[i] as EvtxEvent),
      ),
    ).toEqual(expected);
  });
});

describe('temporal', () => {
  // "All events defined by the rules referred by the rule field must occur in the time frame".
  const rules = withCorrelation(`title: Logon then discovery
correlation:
  type: temporal
  rules: [successful_logon, whoami]
  group-by: [user]
  timespan: 5m
  aliases:
    user:
      successful_logon: TargetUserName
      whoami: User
`);

  it('alerts when every rule has matched in the group within the timespan, in any order', () => {
    expect(
      correlate(rules, [success(0, 1, { TargetUserName: 'alice' }), whoami(60, 2, { User: 'alice' })]),
    ).toEqual([
      { title: 'Logon then discovery', group: { user: 'alice' }, records: [1, 2], timestamp: at(60) },
    ]);
    expect(
      correlate(rules, [whoami(0, 1, { User: 'alice' }), success(60, 2, { TargetUserName: 'alice' })]),
    ).toEqual([
      { title: 'Logon then discovery', group: { user: 'alice' }, records: [1, 2], timestamp: at(60) },
    ]);
  });

  it('does not alert when one rule has not matched', () => {
    expect(
      correlate(rules, [
        success(0, 1, { TargetUserName: 'alice' }),
        success(5, 2, { TargetUserName: 'alice' }),
      ]),
    ).toEqual([]);
  });

  it('does not alert when the events are further apart than the timespan', () => {
    expect(
      correlate(rules, [success(0, 1, { TargetUserName: 'alice' }), whoami(301, 2, { User: 'alice' })]),
    ).toEqual([]);
  });

  it('maps each rule field through the aliases and keeps groups apart', () => {
    const events = [
      success(0, 1, { TargetUserName: 'alice', User: 'bob' }),
      whoami(10, 2, { User: 'bob', TargetUserName: 'alice' }),
      whoami(20, 3, { User: 'carol' }),
    ];
    // The logon is alice's (TargetUserName), the whoami bob's and carol's (User): nothing matches up.
    expect(correlate(rules, events)).toEqual([]);
  });

  it('resolves aliases named after rule names when the correlation refers to rules by id', () => {
    const byId = withCorrelation(`title: Logon then discovery
correlation:
  type: temporal
  rules: [5a1e0000-0000-4000-8000-000000004624, 5a1e0000-0000-4000-8000-000000000001]
  group-by: [user]
  timespan: 5m
  aliases:
    user:
      successful_logon: TargetUserName
      whoami: User
`);
    const events = [success(0, 1, { TargetUserName: 'alice' }), whoami(10, 2, { User: 'bob' })];
    expect(correlate(byId, events)).toEqual([]);
    expect(correlate(byId, [...events, whoami(20, 3, { User: 'alice' })])).toEqual([
      { title: 'Logon then discovery', group: { user: 'alice' }, records: [1, 3], timestamp: at(20) },
    ]);
  });

  it('gives the same result when the events arrive out of order', () => {
    const inOrder = [
      success(0, 1, { TargetUserName: 'alice' }),
      success(10, 2, { TargetUserName: 'bob' }),
      whoami(20, 3, { User: 'alice' }),
      whoami(400, 4, { User: 'bob' }),
    ];
    const expected = [
      { title: 'Logon then discovery', group: { user: 'alice' }, records: [1, 3], timestamp: at(20) },
    ];
    expect(correlate(rules, inOrder)).toEqual(expected);
    expect(correlate(rules, [inOrder[2], inOrder[1], inOrder[0], inOrder[3]] as EvtxEvent[])).toEqual(
      expected,
    );
  });
});

describe('temporal_ordered', () => {
  // "behaves like temporal and requires in addition that the events appear in the order provided".
  const rules = withCorrelation(`title: Failed then successful logon
correlation:
  type: temporal_ordered
  rules: [failed_logon, successful_logon]
  group-by: [TargetUserName]
  timespan: 10m
`);
  const user = (name: string) => ({ TargetUserName: name });

  it('alerts when the rules match in their order within the timespan', () => {
    expect(correlate(rules, [failed(0, 1, user('alice')), success(60, 2, user('alice'))])).toEqual([
      {
        title: 'Failed then successful logon',
        group: { TargetUserName: 'alice' },
        records: [1, 2],
        timestamp: at(60),
      },
    ]);
  });

  it('does not alert when they match in the other order', () => {
    expect(correlate(rules, [success(0, 1, user('alice')), failed(60, 2, user('alice'))])).toEqual([]);
  });

  it('does not alert when a rule is missing or the events are too far apart', () => {
    expect(correlate(rules, [failed(0, 1, user('alice')), failed(60, 2, user('alice'))])).toEqual([]);
    expect(correlate(rules, [failed(0, 1, user('alice')), success(601, 2, user('alice'))])).toEqual([]);
  });

  it('keeps groups apart', () => {
    expect(correlate(rules, [failed(0, 1, user('alice')), success(60, 2, user('bob'))])).toEqual([]);
  });

  it('orders by event time, not by arrival', () => {
    const expected = [
      {
        title: 'Failed then successful logon',
        group: { TargetUserName: 'alice' },
        records: [1, 2],
        timestamp: at(60),
      },
    ];
    expect(correlate(rules, [success(60, 2, user('alice')), failed(0, 1, user('alice'))])).toEqual(expected);
    // Arriving in order but happening in the other order is no match.
    expect(correlate(rules, [failed(60, 1, user('alice')), success(0, 2, user('alice'))])).toEqual([]);
  });

  it('uses aliases too', () => {
    const aliased = withCorrelation(`title: Failed logon then discovery
correlation:
  type: temporal_ordered
  rules: [failed_logon, whoami]
  group-by: [account]
  timespan: 10m
  aliases:
    account:
      failed_logon: TargetUserName
      whoami: SubjectUserName
`);
    const events = [
      failed(0, 1, user('alice')),
      whoami(30, 2, { SubjectUserName: 'bob' }),
      whoami(60, 3, { SubjectUserName: 'alice' }),
    ];
    expect(correlate(aliased, events)).toEqual([
      {
        title: 'Failed logon then discovery',
        group: { account: 'alice' },
        records: [1, 3],
        timestamp: at(60),
      },
    ]);
  });
});

describe('correlations in the offline scan', () => {
  const events = [
    failed(0, 1, { IpAddress: '10.0.0.5' }),
    failed(10, 2, { IpAddress: '10.0.0.5' }),
    success(20, 3, { IpAddress: '10.0.0.5' }),
    failed(30, 4, { IpAddress: '10.0.0.5' }),
  ];

  function writeEvents(name: string, list: readonly EvtxEvent[]): string {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-correlation-'));
    const file = join(dir, name);
    writeFileSync(file, list.map((e) => JSON.stringify(e)).join('\n'));
    return file;
  }

  const correlation = (generate: boolean) => `title: Brute force
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 1m
  condition: { gte: 3 }
generate: ${generate}
`;

  it('without generate, reports the correlation and not the rules it uses', async () => {
    const file = writeEvents('events.jsonl', events);
    const { alerts } = await scanFiles([file], withCorrelation(correlation(false)));
    const ref = (e: EvtxEvent) => ({
      file,
      recordId: e.recordId,
      timestamp: e.timestamp,
      channel: 'Security',
      eventId: e.system.eventId,
      computer: 'WS01.corp.example',
    });
    expect(alerts.map((a) => [a.kind, a.title, a.timestamp, a.events, a.group])).toEqual([
      // The successful logon is a rule of its own, not used by the correlation: it still alerts.
      ['sigma', 'Successful logon', at(20), [ref(events[2] as EvtxEvent)], undefined],
      [
        'correlation',
        'Brute force',
        at(30),
        [ref(events[0] as EvtxEvent), ref(events[1] as EvtxEvent), ref(events[3] as EvtxEvent)],
        { IpAddress: '10.0.0.5' },
      ],
    ]);
  });

  it('with generate, reports the rules it uses as well', async () => {
    const file = writeEvents('events.jsonl', events);
    const { alerts } = await scanFiles([file], withCorrelation(correlation(true)));
    expect(alerts.map((a) => [a.kind, a.title, a.timestamp, a.events.map((e) => e.recordId)])).toEqual([
      ['sigma', 'Failed logon', at(0), [1]],
      ['sigma', 'Failed logon', at(10), [2]],
      ['sigma', 'Successful logon', at(20), [3]],
      ['correlation', 'Brute force', at(30), [1, 2, 4]],
      ['sigma', 'Failed logon', at(30), [4]],
    ]);
  });

  // `generate` for each type, over one set of events: alice fails twice and then logs on, bob
  // fails once, all from one address.
  const ip = '10.0.0.9';
  const mixed = [
    failed(0, 1, { TargetUserName: 'alice', IpAddress: ip }),
    failed(10, 2, { TargetUserName: 'alice', IpAddress: ip }),
    failed(15, 3, { TargetUserName: 'bob', IpAddress: ip }),
    success(20, 4, { TargetUserName: 'alice', IpAddress: ip }),
  ];
  const generateCases: [type: string, correlation: string, fired: [string, number[]]][] = [
    [
      'event_count',
      'type: event_count\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n  condition: { gte: 2 }',
      [at(10), [1, 2]],
    ],
    [
      'value_count',
      'type: value_count\n  rules: [failed_logon]\n  group-by: [IpAddress]\n  condition: { field: TargetUserName, gte: 2 }',
      [at(15), [1, 2, 3]],
    ],
    [
      'temporal',
      'type: temporal\n  rules: [failed_logon, successful_logon]\n  group-by: [TargetUserName]',
      [at(20), [1, 2, 4]],
    ],
    [
      'temporal_ordered',
      'type: temporal_ordered\n  rules: [failed_logon, successful_logon]\n  group-by: [TargetUserName]',
      [at(20), [1, 2, 4]],
    ],
  ];
  const uses = (correlation: string, rule: string) => correlation.includes(rule);

  it.each(generateCases)(
    '%s without generate keeps the alerts of the rules it uses back',
    async (type, body, fired) => {
      const rules = withCorrelation(`title: Correlation ${type}\ncorrelation:\n  ${body}\n  timespan: 1m\n`);
      const { alerts } = await scanFiles([writeEvents('mixed.jsonl', mixed)], rules);
      const own = uses(body, 'successful_logon') ? [] : [['sigma', 'Successful logon', at(20), [4]]];
      const expected = [['correlation', `Correlation ${type}`, ...fired], ...own].sort((a, b) =>
        String(a[2]).localeCompare(String(b[2])),
      );
      expect(alerts.map((a) => [a.kind, a.title, a.timestamp, a.events.map((e) => e.recordId)])).toEqual(
        expected,
      );
    },
  );

  it.each(generateCases)('%s with generate: true keeps them', async (type, body, fired) => {
    const rules = withCorrelation(
      `title: Correlation ${type}\ncorrelation:\n  ${body}\n  timespan: 1m\ngenerate: true\n`,
    );
    const { alerts } = await scanFiles([writeEvents('mixed.jsonl', mixed)], rules);
    const base: unknown[][] = [
      ['sigma', 'Failed logon', at(0), [1]],
      ['sigma', 'Failed logon', at(10), [2]],
      ['sigma', 'Failed logon', at(15), [3]],
      ['sigma', 'Successful logon', at(20), [4]],
    ];
    // Timeline order: by time, then title ('Correlation …' before 'Failed …' and 'Successful …').
    const at0 = base.findIndex((b) => b[2] === fired[0]);
    const expected = [
      ...base.slice(0, at0),
      ['correlation', `Correlation ${type}`, ...fired],
      ...base.slice(at0),
    ];
    expect(alerts.map((a) => [a.kind, a.title, a.timestamp, a.events.map((e) => e.recordId)])).toEqual(
      expected,
    );
  });

  it('gives the same alerts whatever the order of files and events', async () => {
    const rules = withCorrelation(correlation(false));
    const forward = await scanFiles([writeEvents('a.jsonl', events)], rules);
    const later = writeEvents('a.jsonl', [events[3], events[1]] as EvtxEvent[]);
    const earlier = writeEvents('b.jsonl', [events[2], events[0]] as EvtxEvent[]);
    const shuffled = await scanFiles([later, earlier], rules);
    const strip = (alerts: readonly Alert[]) =>
      alerts.map((a) => [a.title, a.timestamp, a.events.map((e) => [e.recordId, e.timestamp])]);
    expect(strip(shuffled.alerts)).toEqual(strip(forward.alerts));
    expect(strip(forward.alerts)).toEqual([
      ['Successful logon', at(20), [[3, at(20)]]],
      [
        'Brute force',
        at(30),
        [
          [1, at(0)],
          [2, at(10)],
          [4, at(30)],
        ],
      ],
    ]);
  });

  it('chains correlations as in the specification example, failed logons then a successful one', async () => {
    // The specification's "Failed Logins Followed by Successful Login", with a count of 3.
    const chained = compileRules(`${baseRules}---
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
level: high
correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_logon]
  group-by: [TargetUserName]
  timespan: 10m
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 10m
  condition: { gte: 3 }
`);
    const list = [
      failed(0, 1, { TargetUserName: 'alice' }),
      failed(10, 2, { TargetUserName: 'alice' }),
      success(15, 3, { TargetUserName: 'bob' }),
      failed(20, 4, { TargetUserName: 'alice' }),
      success(30, 5, { TargetUserName: 'alice' }),
    ];
    const { alerts } = await scanFiles([writeEvents('chain.jsonl', list)], chained);
    // Only the outermost correlation alerts: the rules and the correlation it uses have no
    // `generate`, so bob's successful logon and the count of alice's failures stay silent. The
    // alert carries every event behind it: alice's three failures and her successful logon.
    expect(
      alerts.map((a) => [a.title, a.level, a.timestamp, a.events.map((e) => e.recordId), a.group]),
    ).toEqual([
      [
        'Correlation - Multiple Failed Logins Followed by Successful Login',
        'high',
        at(30),
        [1, 2, 4, 5],
        { TargetUserName: 'alice' },
      ],
    ]);
  });
});
