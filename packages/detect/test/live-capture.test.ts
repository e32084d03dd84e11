// watchCapture against the offline path on the lab recording: over the file's frames it gives
// exactly normaliseCapture's rows and scanFiles' alerts; live, with the recording replayed across
// a veth pair and captured by tcpdump with the default DC filter (as root, with tcpreplay), it
// gives the same rows and alerts but for times and frame numbers.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LiveCapture, readCapture } from '@palisade/protocols';
import { normaliseCapture, type TableRow } from '@palisade/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVethPair, liveCaptureSkipReason, type VethPair } from '../../protocols/test/veth-pair.ts';
import {
  type Alert,
  compareAlerts,
  compileRuleSet,
  identityDetectors,
  scanFiles,
  watchCapture,
} from '../src/index.ts';

const pcap = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples/testbed-default.pcap');
const missing = existsSync(pcap) ? undefined : `lab capture not found at ${pcap}`;
if (missing) {
  if (process.env.CI) throw new Error(`live detection test cannot run in CI: ${missing}`);
  console.log(`skipping live detection tests: ${missing}`);
}

const identity = { detectors: identityDetectors, config: { testMode: true } };

async function offlineAlerts(): Promise<Alert[]> {
  const { alerts } = await scanFiles([pcap], compileRuleSet([], { name: 'none', entries: [] }), { identity });
  return alerts;
}

// A row without what depends on when and in which frame it was captured.
function timeless(row: TableRow): unknown {
  const { Timestamp: _time, ReportId: _report, AdditionalFields, ...values } = row.values;
  const extra =
    typeof AdditionalFields === 'object' && AdditionalFields !== null && !Array.isArray(AdditionalFields)
      ? Object.fromEntries(Object.entries(AdditionalFields).filter(([k]) => k !== 'Frame'))
      : AdditionalFields;
  return { table: row.table, values, extra };
}

// An alert without its time and the events it cites (their times and frames).
function timelessAlert(a: Alert): unknown {
  const { timestamp: _time, events, ...rest } = a;
  return { ...rest, events: events.length };
}

describe.skipIf(missing !== undefined)('watchCapture on the lab recording', () => {
  it("gives normaliseCapture's rows and scanFiles' alerts over the file's frames", async () => {
    const bytes = readFileSync(pcap);
    const rows: TableRow[] = [];
    const alerts: Alert[] = [];
    const summary = await watchCapture(readCapture(bytes).frames, {
      source: pcap,
      identity,
      onRow: (r) => rows.push(r),
      onAlert: (a) => {
        alerts.push(a);
      },
    });
    const offline = normaliseCapture(bytes).rows;
    expect(rows).toEqual(offline);
    const expected = await offlineAlerts();
    expect(expected.length).toBeGreaterThanOrEqual(8);
    expect(alerts.sort(compareAlerts)).toEqual(expected);
    expect(summary).toMatchObject({ frames: 1780, rows: offline.length, alerts: expected.length });
  });
});

const skipLive = missing ?? liveCaptureSkipReason('live detection test');

describe.skipIf(skipLive !== undefined)('watchCapture on a live capture of the lab recording', () => {
  let veth: VethPair;
  beforeAll(() => {
    veth = createVethPair('dt');
  });
  afterAll(() => veth?.remove());

  it('gives the offline rows and alerts, but for times and frame numbers', async () => {
    const capture = await LiveCapture.start({
      interface: veth.captureInterface,
      // The lab DC's address, so that DRSUAPI on its dynamic port 49153 is kept.
      dcAddresses: ['10.99.0.10'],
      command: [...veth.inCapture, 'tcpdump'],
      bufferSizeKiB: 8192,
    });
    const rows: TableRow[] = [];
    const alerts: Alert[] = [];
    const watching = watchCapture(capture, {
      source: veth.captureInterface,
      identity,
      onRow: (r) => rows.push(r),
      onAlert: (a) => {
        alerts.push(a);
      },
    });
    expect(await veth.replay(pcap)).toEqual({ sent: 1780, failed: 0 });
    for (let i = 0; i < 100 && capture.stats().frames < 1778; i++)
      await new Promise((r) => setTimeout(r, 100));
    const stats = await capture.stop();
    const summary = await watching;

    const offline = normaliseCapture(readFileSync(pcap)).rows;
    console.log(
      `live detection: ${stats.frames} frames captured, ${stats.tcpdump?.droppedByKernel} dropped by kernel, ${rows.length} rows (offline ${offline.length}), ${alerts.length} alerts`,
    );
    expect(stats.tcpdump).toEqual({
      captured: 1778,
      receivedByFilter: 1778,
      droppedByKernel: 0,
      droppedByInterface: 0,
    });
    expect(rows.map(timeless)).toEqual(offline.map(timeless));
    const expected = await offlineAlerts();
    expect(alerts.sort(compareAlerts).map(timelessAlert)).toEqual(expected.map(timelessAlert));
    expect(alerts.every((a) => a.events.every((e) => e.file === veth.captureInterface))).toBe(true);
    expect(summary).toMatchObject({ frames: 1778, rows: offline.length, alerts: expected.length });
  });
});
