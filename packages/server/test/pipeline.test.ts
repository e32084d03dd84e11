// The ingest pipeline over real stores: per-row checks, the events alerts cite for sensor-made rows
// (so alert ids match the offline scan's), identity detector state rebuilt after every restart
// (the Samba lab logs restarted after each small batch raise exactly what one run raises), and a
// batch stored before a crash finished on the next start. Corpus parts skip when ../shared is absent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEvtx } from '@palisade/evtx';
import { normaliseWindowsEvent, readSambaAuditLines, type TableRow } from '@palisade/schema';
import { DuckDbEventStore, type EventStore, SqliteStateStore, type StateStore } from '@palisade/store';
import { afterEach, describe, expect, it } from 'vitest';
import { compileRules, windowsEvent } from '../../detect/test/hand-events.ts';
import { silentLogger } from '../src/log.ts';
import {
  checkBatch,
  correlationSnapshotId,
  Pipeline,
  rowEvent,
  sigmaCorrelationSnapshotId,
} from '../src/pipeline.ts';

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus');
const audit = join(corpus, 'testbed-samples/audit');
const dcsyncFile = join(corpus, 'evtx-attack-samples/Credential Access/CA_DCSync_4662.evtx');
const missing = [audit, dcsyncFile].find((p) => !existsSync(p));
if (missing) {
  if (process.env.CI) throw new Error(`pipeline corpus tests cannot run in CI: ${missing} not found`);
  console.log(`skipping pipeline corpus tests: ${missing} not found`);
}

const dirs: string[] = [];
const open: { events: EventStore; state: StateStore }[] = [];

async function stores(dir?: string): Promise<{ dir: string; events: EventStore; state: StateStore }> {
  const at = dir ?? (await mkdtemp(join(tmpdir(), 'palisade-pipeline-')));
  if (dir === undefined) dirs.push(at);
  const events = await DuckDbEventStore.open(join(at, 'events.duckdb'), { memoryLimit: '256MB', threads: 2 });
  const state = await SqliteStateStore.open(join(at, 'state.sqlite'));
  open.push({ events, state });
  return { dir: at, events, state };
}

async function closeAll(): Promise<void> {
  for (const s of open.splice(0)) {
    await s.events.close();
    await s.state.close();
  }
}

afterEach(async () => {
  await closeAll();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const pipelineOf = (s: { events: EventStore; state: StateStore }) =>
  Pipeline.open({ ...s, log: silentLogger, identityConfig: { testMode: true } });

async function alertIds(state: StateStore): Promise<string[]> {
  return (await state.alerts.list({ top: 1000 })).items.map((a) => a.id).sort();
}

function sambaRows(): TableRow[] {
  const rows = readdirSync(audit)
    .sort()
    .flatMap((name) => readSambaAuditLines(readFileSync(join(audit, name), 'utf8'), name).rows);
  const time = (row: TableRow) => Date.parse(String(row.values.Timestamp));
  return rows.sort((a, b) => time(a) - time(b));
}

describe('checkBatch', () => {
  it('keeps the rows and events that are good and names each refused one', () => {
    const checked = checkBatch({
      rows: [
        {
          table: 'IdentityLogonEvents',
          values: { Timestamp: '2026-01-01T00:00:00Z', ActionType: 'LogonFailed' },
        },
        null,
        { table: 'IdentityLogonEvents', values: [] },
        { table: 'IdentityQueryEvents', values: { Timestamp: 5, Bogus: 1 } },
      ],
      events: [
        { system: { eventId: 4624, channel: 'Security', computer: 'dc1', provider: 'x' }, timestamp: '' },
        7,
      ],
    });
    expect(checked.rows).toHaveLength(1);
    expect(checked.events).toHaveLength(1);
    expect(checked.rejected).toEqual([
      { part: 'rows', index: 1, message: 'expected a row { table, values }, found null' },
      { part: 'rows', index: 2, message: 'expected values as an object, found []' },
      {
        part: 'rows',
        index: 3,
        column: 'Timestamp',
        message: 'IdentityQueryEvents.Timestamp is datetime, found 5',
      },
      { part: 'rows', index: 3, column: 'Bogus', message: 'IdentityQueryEvents has no column Bogus' },
      { part: 'events', index: 1, message: 'expected a JSON object' },
    ]);
  });
});

describe('rowEvent', () => {
  it('cites a Windows row by its ReportId and event id, as the scan cites the event', () => {
    const row: TableRow = {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2019-05-08T02:10:43.4872170Z',
        ReportId: 'DC1.insecurebank.local:Security:16403',
        AdditionalFields: { EventId: 4662 },
      },
    };
    expect(rowEvent(row, 'dc1')).toEqual({
      file: 'dc1',
      timestamp: '2019-05-08T02:10:43.4872170Z',
      channel: 'Security',
      eventId: 4662,
      computer: 'DC1.insecurebank.local',
      recordId: 16403,
    });
  });

  it('cites Samba and packet rows as the scan does', () => {
    const samba: TableRow = {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: 't',
        ReportId: 'samba:abc',
        DestinationDeviceName: 'DC1',
        AdditionalFields: { EventId: 4625 },
      },
    };
    expect(rowEvent(samba, 's')).toEqual({
      file: 's',
      timestamp: 't',
      channel: 'Samba audit',
      eventId: 4625,
      computer: 'DC1',
    });
    const packet: TableRow = {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: 't',
        ReportId: 'net:12',
        DestinationIPAddress: '10.0.0.1',
        AdditionalFields: { Frame: 11 },
      },
    };
    expect(rowEvent(packet, 's')).toEqual({
      file: 's',
      timestamp: 't',
      channel: 'network',
      eventId: 0,
      computer: '10.0.0.1',
      recordId: 11,
    });
  });
});

describe.skipIf(missing !== undefined)('Pipeline', () => {
  it('raises after restarts what one run raises: identity state is rebuilt from the event store', async () => {
    const rows = sambaRows();
    const batches: TableRow[][] = [];
    for (let i = 0; i < rows.length; i += 20) batches.push(rows.slice(i, i + 20));
    expect(batches.length).toBeGreaterThan(5);

    const once = await stores();
    const pipeline = await pipelineOf(once);
    for (const [i, batch] of batches.entries()) {
      await pipeline.ingest({ batchId: `b${i}`, sensorId: 'dc1', rows: batch, events: [] });
    }
    const expected = await alertIds(once.state);
    expect(expected.length).toBe(4);

    // A new pipeline (a restart) before every batch: the detectors must pick up where they were.
    const restarted = await stores();
    for (const [i, batch] of batches.entries()) {
      const fresh = await pipelineOf(restarted);
      await fresh.ingest({ batchId: `b${i}`, sensorId: 'dc1', rows: batch, events: [] });
      await fresh.close();
    }
    expect(await alertIds(restarted.state)).toEqual(expected);
    const incidents = await restarted.state.incidents.list();
    expect(incidents.items.map((i) => i.alertCount)).toEqual([4]);
    const snapshot = await restarted.state.detectorSnapshots.get(correlationSnapshotId);
    expect(Number(snapshot?.position)).toBeGreaterThan(0);
  });

  it('commits batches that arrive together as groups: same alerts, each id stored once', async () => {
    const rows = sambaRows();
    const batches: TableRow[][] = [];
    for (let i = 0; i < rows.length; i += 20) batches.push(rows.slice(i, i + 20));
    const one = await stores();
    const sequential = await pipelineOf(one);
    for (const [i, batch] of batches.entries()) {
      await sequential.ingest({ batchId: `b${i}`, sensorId: 'dc1', rows: batch, events: [] });
    }
    const grouped = await stores();
    const pipeline = await pipelineOf(grouped);
    // Sent all at once: the first commits alone, the rest queue behind it and commit in groups; b2
    // is sent twice, the second time into the same group as the first.
    const sent = batches.flatMap((batch, i) => {
      const send = () => pipeline.ingest({ batchId: `b${i}`, sensorId: 'dc1', rows: batch, events: [] });
      return i === 2 ? [send(), send()] : [send()];
    });
    const acks = await Promise.all(sent);
    expect(acks.map((a) => [a.batchId, a.duplicate])).toEqual(
      batches.flatMap((_, i) =>
        i === 2
          ? [
              [`b${i}`, false],
              [`b${i}`, true],
            ]
          : [[`b${i}`, false]],
      ),
    );
    const again = await pipeline.ingest({
      batchId: 'b1',
      sensorId: 'dc1',
      rows: batches[1] ?? [],
      events: [],
    });
    expect(again).toMatchObject({ duplicate: true, alerts: 0 });
    expect(await alertIds(grouped.state)).toEqual(await alertIds(one.state));
    expect(acks.reduce((n, a) => n + a.alerts, 0)).toBe((await alertIds(one.state)).length);
    const stored = await grouped.events.listBatches(0, 1000);
    const sensorBatches = stored.filter((b) => b.source === 'dc1').map((b) => b.batchId);
    expect(sensorBatches).toEqual(batches.map((_, i) => `b${i}`));
    const count = await grouped.events.query('SELECT count(*) AS n FROM "IdentityLogonEvents"');
    const expected = await one.events.query('SELECT count(*) AS n FROM "IdentityLogonEvents"');
    expect(count.rows).toEqual(expected.rows);
    expect((await grouped.state.batches.unprocessed()).length).toBe(0);
  });

  it('finishes on start a batch that was stored but not detected on (a crash in between)', async () => {
    const s = await stores();
    const rows = parseEvtx(readFileSync(dcsyncFile)).events.flatMap((e) => normaliseWindowsEvent(e, 'dc1'));
    // What a crash leaves: the rows durable in the event store, nothing in the state store.
    await s.events.append('dc1:000001', rows, { source: 'dc1' });
    expect(await alertIds(s.state)).toEqual([]);
    const pipeline = await pipelineOf(s);
    const ids = await alertIds(s.state);
    expect(ids).toHaveLength(1);
    expect((await s.state.batches.get('dc1:000001'))?.processedAt).not.toBeNull();
    // The sensor re-sends the batch it got no answer for: stored once, detected once.
    const ack = await pipeline.ingest({ batchId: 'dc1:000001', sensorId: 'dc1', rows, events: [] });
    expect(ack).toMatchObject({ duplicate: true, alerts: 0 });
    expect(await alertIds(s.state)).toEqual(ids);
    const info = await s.events.query('SELECT count(*) AS n FROM "AlertInfo"');
    expect(Number(info.rows[0]?.n)).toBe(1);
  });

  it('refuses batches beyond its queue with pipeline/busy', async () => {
    const s = await stores();
    const pipeline = await Pipeline.open({ ...s, log: silentLogger, maxQueuedBatches: 1 });
    const first = pipeline.ingest({ batchId: 'q1', sensorId: 'dc1', rows: [], events: [] });
    await expect(
      pipeline.ingest({ batchId: 'q2', sensorId: 'dc1', rows: [], events: [] }),
    ).rejects.toMatchObject({
      code: 'pipeline/busy',
    });
    await expect(first).resolves.toMatchObject({ duplicate: false });
  });
});

describe('Sigma correlations across a restart', () => {
  // Three failed logons from one address within five minutes, the first two before a restart.
  const ruleSet = compileRules(`title: Failed logon
id: 5a1e0000-0000-4000-8000-000000004625
name: failed_logon
logsource: { product: windows, service: security }
detection:
  selection:
    EventID: 4625
  condition: selection
---
title: Repeated failed logons
id: 5a1e0000-0000-4000-8000-00000000c001
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition: { gte: 3 }
`);
  const failed = (seconds: number, recordId: number) =>
    windowsEvent({
      channel: 'Security',
      eventId: 4625,
      time: new Date(Date.UTC(2026, 10, 22, 9, 0, seconds)).toISOString(),
      recordId,
      data: { IpAddress: '10.0.0.5', TargetUserName: 'alice' },
    });
  const titles = async (state: StateStore) =>
    (await state.alerts.list({ top: 100 })).items
      .map((a) => a.title)
      .filter((t) => t === 'Repeated failed logons');

  it('keeps their open windows: the third failure after a restart completes the count', async () => {
    const s = await stores();
    const open = () =>
      Pipeline.open({ ...s, log: silentLogger, ruleSet, identityConfig: { testMode: true } });
    const first = await open();
    await first.ingest({ batchId: 'c1', sensorId: 'dc1', rows: [], events: [failed(0, 1), failed(20, 2)] });
    await first.close();
    expect(await titles(s.state)).toEqual([]);
    const second = await open();
    await second.ingest({ batchId: 'c2', sensorId: 'dc1', rows: [], events: [failed(40, 3)] });
    await second.close();
    expect(await titles(s.state)).toEqual(['Repeated failed logons']);
    // Once the window closed on an alert, the snapshot holds no open window.
    const saved = await s.state.detectorSnapshots.get(sigmaCorrelationSnapshotId);
    expect(JSON.parse(Buffer.from(saved?.state ?? []).toString('utf8'))).toEqual({ version: 1, states: [] });
  });
});
