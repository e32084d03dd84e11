// Every Sysmon and Security record of both EVTX corpora (EVTX-ATTACK-SAMPLES and Sigma's
// regression data) goes through the device normalisers: at most one row each, one for every
// event id they map, and every row passes checkRow. Prints the rows per table and ActionType.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseEvtx } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { normaliseSecurityDeviceEvent, securityDeviceEventIds } from '../src/normalise/security-device.ts';
import { normaliseSysmonEvent, sysmonChannel, sysmonDeviceEventIds } from '../src/normalise/sysmon-device.ts';
import { checkRow } from '../src/rows.ts';

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus');
const roots = ['evtx-attack-samples', 'sigma/regression_data'].map((r) => join(corpus, r));
const missing = roots.find((r) => !existsSync(r));
if (missing) {
  if (process.env.CI) throw new Error(`corpus not found at ${missing}`);
  console.log(`skipping device corpus test: corpus not found at ${missing}`);
}

function evtxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.evtx'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe.skipIf(missing !== undefined)('device normalisers over the EVTX corpora', () => {
  it('make valid rows from every Sysmon and Security record', () => {
    const counts = new Map<string, number>();
    const problems: string[] = [];
    let records = 0;
    for (const file of roots.flatMap(evtxFiles)) {
      for (const event of parseEvtx(readFileSync(file)).events) {
        const { channel, eventId } = event.system;
        const sysmon = channel === sysmonChannel;
        if (!sysmon && channel !== 'Security') continue;
        records++;
        const rows = sysmon ? normaliseSysmonEvent(event) : normaliseSecurityDeviceEvent(event);
        const where = `${relative(corpus, file)} record ${event.system.eventRecordId}`;
        const mapped = sysmon
          ? sysmonDeviceEventIds.includes(eventId)
          : securityDeviceEventIds.includes(eventId);
        if (rows.length !== (mapped ? 1 : 0))
          problems.push(`${where}: ${rows.length} rows for event ${eventId}`);
        for (const row of rows) {
          for (const p of checkRow(row)) problems.push(`${where}: ${p.message}`);
          const key = `${row.table} ${row.values.ActionType}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
    }
    console.log(
      `device rows from ${records} Sysmon and Security records:\n${[...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `  ${k.padEnd(52)} ${n}`)
        .join('\n')}`,
    );
    expect(problems).toEqual([]);
    expect(records).toBeGreaterThan(4000);
  });
});
