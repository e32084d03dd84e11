// Every record of every EVTX file in both shared corpora (EVTX-ATTACK-SAMPLES and Sigma's
// regression data) normalises without throwing, gives exactly one PalisadeRawEvents row, and
// every row passes checkRow. Prints how many rows each table and each ActionType received.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseEvtx } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { normaliseWindowsEvent } from '../src/normalise/windows-identity.ts';
import { checkRow } from '../src/rows.ts';
import {
  attackSamples,
  corpusMissing,
  corpusRoot,
  evtxFiles,
  sigmaRegressionData,
} from './windows-corpus.ts';

const missing = corpusMissing('Windows normaliser corpus test');

describe.skipIf(missing !== undefined)('normaliseWindowsEvent over every corpus record', () => {
  it('normalises every record into rows that pass checkRow', () => {
    const files = [...evtxFiles(attackSamples), ...evtxFiles(sigmaRegressionData)];
    const perTable = new Map<string, number>();
    const perAction = new Map<string, number>();
    const problems: string[] = [];
    let records = 0;
    for (const file of files) {
      const { events } = parseEvtx(readFileSync(file));
      for (const event of events) {
        records++;
        const rows = normaliseWindowsEvent(event);
        const where = `${relative(corpusRoot, file)} record ${event.system.eventRecordId ?? event.recordId}`;
        const raw = rows.filter((r) => r.table === 'PalisadeRawEvents');
        if (raw.length !== 1) problems.push(`${where}: ${raw.length} raw rows`);
        if (new Set(rows.map((r) => r.values.ReportId)).size !== 1)
          problems.push(`${where}: ReportIds differ`);
        for (const row of rows) {
          for (const p of checkRow(row)) problems.push(`${where}: ${p.message}`);
          perTable.set(row.table, (perTable.get(row.table) ?? 0) + 1);
          if (row.table !== 'PalisadeRawEvents') {
            const key = `${row.table} ${String(row.values.ActionType)}`;
            perAction.set(key, (perAction.get(key) ?? 0) + 1);
          }
        }
      }
    }
    const table = (m: Map<string, number>) =>
      [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `  ${String(n).padStart(6)}  ${k}`);
    console.log(
      [
        `${files.length} files, ${records} records`,
        'rows per table:',
        ...table(perTable),
        'rows per ActionType:',
        ...table(perAction),
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(perTable.get('PalisadeRawEvents')).toBe(records);
  });
});
