// Semantics conformance: KQL run through parse → IR → DuckDB SQL over the fixed dataset of
// dataset.ts, each expected result worked out by hand from KQL's documented semantics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CompileOptions,
  compileQuery,
  executeQuery,
  formatDiagnostic,
  type HuntingResult,
} from '../src/index.ts';
import { loadDataset } from './dataset.ts';
import { type HuntingDb, openHuntingDb } from './hunting-db.ts';

let db: HuntingDb;
beforeAll(async () => {
  db = await openHuntingDb();
  await loadDataset(db);
});
afterAll(() => db.close());

const now = new Date('2024-05-02T00:30:00Z');

async function run(query: string, options: CompileOptions = {}): Promise<HuntingResult> {
  const compiled = compileQuery(query, { now, ...options });
  if (!compiled.value) throw new Error(compiled.diagnostics.map(formatDiagnostic).join('; '));
  const result = await executeQuery(db.connection, compiled.value);
  if (!result.value)
    throw new Error(`${result.diagnostics.map(formatDiagnostic).join('; ')}\n${compiled.value.sql}`);
  return result.value;
}

/** The ProcessIds of the rows `filter` keeps, ascending. */
async function ids(filter: string): Promise<number[]> {
  const { Results } = await run(`DeviceProcessEvents | where ${filter} | project ProcessId`);
  return Results.map((r) => Number(r.ProcessId)).sort((a, b) => a - b);
}

/** The values of one column, in result order. */
async function column(query: string, name: string): Promise<unknown[]> {
  return (await run(query)).Results.map((r) => r[name]);
}

describe('string operators', () => {
  it('has matches whole terms; dots and backslashes split terms', async () => {
    expect(await ids('FolderPath has "cmd.exe"')).toEqual([11, 22, 32]);
    expect(await ids('FolderPath has @"system32\\cmd"')).toEqual([11, 22]);
    expect(await ids('FolderPath has @"\\temp\\"')).toEqual([21]);
    expect(await ids('ProcessCommandLine has "cmd"')).toEqual([11, 21, 22]);
    expect(await ids('FolderPath has_cs "CMD.EXE"')).toEqual([22]);
  });

  it('hasprefix and hassuffix match the start and end of terms', async () => {
    expect(await ids('FolderPath hasprefix "power"')).toEqual([12]);
    expect(await ids('ProcessCommandLine hassuffix "line"')).toEqual([21]);
  });

  it('contains, startswith, endswith are case-insensitive substring tests; _cs variants are not', async () => {
    expect(await ids('FolderPath contains "cmd.exe"')).toEqual([11, 21, 22, 32]);
    expect(await ids('FileName startswith "CMD"')).toEqual([11, 22, 32]);
    expect(await ids('FileName startswith_cs "cmd"')).toEqual([11, 32]);
    expect(await ids('FileName endswith ".EXE"')).toEqual([11, 12, 21, 22, 31, 32]);
    expect(await ids('FileName contains_cs "CMD"')).toEqual([22]);
  });

  it('negated operators are true on empty strings', async () => {
    expect(await ids('ProcessCommandLine !has "cmd"')).toEqual([12, 31, 32]);
    expect(await ids('AccountName !contains "o"')).toEqual([11, 12, 31]);
    expect(await ids('AccountName != "alice"')).toEqual([21, 22, 31, 32]);
    expect(await ids('AccountName !startswith "a"')).toEqual([21, 22, 31, 32]);
  });

  it('a missing string matches as "": false under a positive test, true under not()', async () => {
    // 31 has no AccountName; "" contains, starts and ends with "" and is =~ "".
    expect(await ids('not(AccountName contains "o")')).toEqual([11, 12, 31]);
    expect(await ids('not(AccountName has "bob")')).toEqual([11, 12, 31, 32]);
    expect(await ids('AccountName startswith ""')).toEqual([11, 12, 21, 22, 31, 32]);
    expect(await ids('AccountName endswith_cs ""')).toEqual([11, 12, 21, 22, 31, 32]);
    expect(await ids('AccountName =~ ""')).toEqual([31]);
    // "" == "alice" is false, so its negation holds for 31 too (the alice rows are 11 and 12).
    expect(await ids('not(AccountName == "alice")')).toEqual([21, 22, 31, 32]);
    const { Results } = await run(
      'DeviceProcessEvents | where ProcessId == 31 | project c = AccountName contains "o", e = AccountName =~ "x"',
    );
    expect(Results).toEqual([{ c: false, e: false }]);
  });

  it('an empty or missing string is "" and never null', async () => {
    expect(await ids('isempty(AccountName)')).toEqual([31]);
    expect(await ids('AccountName == ""')).toEqual([31]);
    expect(await ids('isnotempty(ProcessCommandLine)')).toEqual([11, 12, 21, 22, 32]);
    const { Results } = await run('DeviceProcessEvents | where ProcessId == 31 | project AccountName');
    expect(Results).toEqual([{ AccountName: '' }]);
  });

  it('=~, in~ are case-insensitive; ==, in are not', async () => {
    expect(await ids('AccountName =~ "ALICE"')).toEqual([11, 12]);
    expect(await ids('AccountName == "ALICE"')).toEqual([]);
    expect(await ids('FileName in~ ("CMD.exe")')).toEqual([11, 22, 32]);
    expect(await ids('FileName in ("cmd.exe")')).toEqual([11, 32]);
    expect(await ids('FileName !in ("cmd.exe")')).toEqual([12, 21, 22, 31]);
    expect(await ids('FileName !~ "cmd.exe"')).toEqual([12, 21, 31]);
  });

  it('in over a dynamic array and over a query', async () => {
    expect(await ids('FileName in (dynamic(["notepad.exe", "mycmd.exe"]))')).toEqual([21, 31]);
    expect(
      await ids('DeviceId in ((DeviceInfo | where OSPlatform == "WindowsServer2019" | project DeviceId))'),
    ).toEqual([21, 22]);
  });

  it('has_any and has_all test whole terms', async () => {
    expect(await ids('ProcessCommandLine has_any ("whoami", "dir")')).toEqual([11, 22]);
    expect(await ids('ProcessCommandLine has_all ("cmd", "whoami")')).toEqual([11]);
  });

  it('matches regex is case-sensitive (RE2)', async () => {
    expect(await ids('FileName matches regex "^[a-z]+\\\\.exe$"')).toEqual([11, 12, 21, 31, 32]);
  });
});

describe('tabular operators', () => {
  it('sort defaults to descending with nulls last; asc puts nulls first', async () => {
    expect(await column('DeviceProcessEvents | sort by FileSize | project ProcessId', 'ProcessId')).toEqual([
      21, 12, 11, 32, 31, 22,
    ]);
    expect(
      await column('DeviceProcessEvents | order by FileSize asc | project ProcessId', 'ProcessId'),
    ).toEqual([22, 31, 32, 11, 12, 21]);
  });

  it('top takes the largest by default', async () => {
    expect(await column('DeviceProcessEvents | top 2 by FileSize | project ProcessId', 'ProcessId')).toEqual([
      21, 12,
    ]);
    expect(
      await column('DeviceProcessEvents | top 2 by FileSize asc | project ProcessId', 'ProcessId'),
    ).toEqual([22, 31]);
  });

  it('take, count, distinct', async () => {
    expect((await run('DeviceProcessEvents | take 4')).Results).toHaveLength(4);
    expect((await run('DeviceProcessEvents | count')).Results).toEqual([{ Count: 6 }]);
    expect(
      await column('DeviceProcessEvents | distinct DeviceName | sort by DeviceName asc', 'DeviceName'),
    ).toEqual(['srv2.corp', 'ws1.corp', 'ws3.corp']);
  });

  it('project, project-away, project-rename, project-reorder keep the binder’s column names and order', async () => {
    const away = await run('DeviceInfo | project-away Timestamp, AdditionalFields, DeviceName | take 1');
    expect(away.Schema.map((c) => c.Name).slice(0, 2)).toEqual(['DeviceId', 'ClientVersion']);
    const renamed = await run(
      'DeviceInfo | project DeviceId, OSPlatform | project-rename Os = OSPlatform | take 1',
    );
    expect(renamed.Schema).toEqual([
      { Name: 'DeviceId', Type: 'string' },
      { Name: 'Os', Type: 'string' },
    ]);
    const reordered = await run(
      'DeviceInfo | project DeviceId, OSPlatform | project-reorder OSPlatform | take 1',
    );
    expect(reordered.Schema.map((c) => c.Name)).toEqual(['OSPlatform', 'DeviceId']);
    const unnamed = await run('DeviceProcessEvents | project ProcessId, ProcessId + 1 | take 1');
    expect(unnamed.Schema.map((c) => c.Name)).toEqual(['ProcessId', 'Column1']);
  });

  it('extend replaces a column in place and appends new ones', async () => {
    const { Results, Schema } = await run(
      'DeviceProcessEvents | where ProcessId == 11 | project ProcessId, FileSize | extend FileSize = FileSize * 2, b = ProcessId + 1 | extend c = b * 10',
    );
    expect(Schema.map((c) => c.Name)).toEqual(['ProcessId', 'FileSize', 'b', 'c']);
    expect(Results).toEqual([{ ProcessId: 11, FileSize: 200, b: 12, c: 120 }]);
  });

  it('summarize count, dcount, countif, sum, avg, min, max', async () => {
    const { Results } = await run(
      'DeviceProcessEvents | summarize count(), dcount(DeviceId), countif(FileSize > 100), sum(FileSize), avg(FileSize), min(FileSize), max(FileSize)',
    );
    // FileSize: 100, 200, 300, null, 50, 60 → sum 710 over 5 values.
    expect(Results).toEqual([
      {
        count_: 6,
        dcount_DeviceId: 3,
        countif_: 2,
        sum_FileSize: 710,
        avg_FileSize: 142,
        min_FileSize: 50,
        max_FileSize: 300,
      },
    ]);
  });

  it('summarize by keys, with names from the binder', async () => {
    const { Results } = await run(
      'DeviceProcessEvents | summarize count() by DeviceName | sort by DeviceName asc',
    );
    expect(Results).toEqual([
      { DeviceName: 'srv2.corp', count_: 2 },
      { DeviceName: 'ws1.corp', count_: 2 },
      { DeviceName: 'ws3.corp', count_: 2 },
    ]);
  });

  it('bin aligns to the epoch (7-day bins start on Thursdays)', async () => {
    const hourly = await run(
      'DeviceProcessEvents | summarize n = count() by bin(Timestamp, 1h) | sort by Timestamp asc',
    );
    expect(hourly.Results).toEqual([
      { Timestamp: '2024-05-01T10:00:00.0000000Z', n: 2 },
      { Timestamp: '2024-05-01T11:00:00.0000000Z', n: 1 },
      { Timestamp: '2024-05-01T12:00:00.0000000Z', n: 1 },
      { Timestamp: '2024-05-02T00:00:00.0000000Z', n: 1 },
      { Timestamp: '2024-05-02T01:00:00.0000000Z', n: 1 },
    ]);
    const weekly = await run(
      'DeviceProcessEvents | summarize n = count() by bin(Timestamp, 7d) | sort by Timestamp asc',
    );
    expect(weekly.Results).toEqual([
      { Timestamp: '2024-04-25T00:00:00.0000000Z', n: 4 },
      { Timestamp: '2024-05-02T00:00:00.0000000Z', n: 2 },
    ]);
    expect(await column('DeviceProcessEvents | project b = bin(FileSize, 100) | sort by b asc', 'b')).toEqual(
      [null, 0, 0, 100, 200, 300],
    );
  });

  it('arg_max keeps the whole row of the largest value', async () => {
    const { Results } = await run(
      'DeviceProcessEvents | summarize arg_max(Timestamp, FileName) by DeviceId | sort by DeviceId asc',
    );
    expect(Results).toEqual([
      { DeviceId: 'd1', Timestamp: '2024-05-01T10:35:00.0000000Z', FileName: 'powershell.exe' },
      { DeviceId: 'd2', Timestamp: '2024-05-01T12:00:00.0000000Z', FileName: 'CMD.EXE' },
      { DeviceId: 'd3', Timestamp: '2024-05-02T01:00:00.0000000Z', FileName: 'cmd.exe' },
    ]);
    const star = await run(
      'DeviceProcessEvents | summarize arg_min(FileSize, *) by DeviceId | sort by DeviceId asc',
    );
    expect(star.Results.map((r) => [r.DeviceId, r.FileSize, r.ProcessId])).toEqual([
      ['d1', 100, 11],
      ['d2', 300, 21],
      ['d3', 50, 31],
    ]);
    expect(star.Schema.slice(0, 3).map((c) => c.Name)).toEqual(['DeviceId', 'FileSize', 'Timestamp']);
  });

  it('make_set, make_list, make_set_if, take_any, percentile', async () => {
    const { Results } = await run(
      'DeviceProcessEvents | where DeviceId == "d1" | summarize s = make_set(AccountName), l = make_list(ProcessId), f = make_set_if(FileName, FileSize > 150), a = take_any(DeviceName)',
    );
    expect(Results).toEqual([
      { s: ['alice'], l: expect.arrayContaining([11, 12]), f: ['powershell.exe'], a: 'ws1.corp' },
    ]);
    // Nearest rank over 50, 60, 100, 200, 300: the 50th percentile is the 3rd value.
    const p = await run(
      'DeviceProcessEvents | summarize percentile(FileSize, 50), percentiles(FileSize, 20, 100)',
    );
    expect(p.Results).toEqual([
      { percentile_FileSize_50: 100, percentile_FileSize_20: 50, percentile_FileSize_100: 300 },
    ]);
  });

  it('an expression over aggregates', async () => {
    const { Results } = await run(
      'DeviceProcessEvents | summarize share = countif(FileSize > 100) * 100.0 / count()',
    );
    expect(Results).toEqual([{ share: (2 * 100) / 6 }]);
  });
});

describe('join', () => {
  const left = 'DeviceProcessEvents | project DeviceId, ProcessId';
  const right = '(DeviceInfo | project DeviceId, OSPlatform)';

  it('defaults to innerunique: one left row per key', async () => {
    const result = await run(`${left} | join ${right} on DeviceId`);
    // d1 keeps one of its two left rows and meets two right rows; d2 keeps one and meets one.
    expect(result.Results).toHaveLength(3);
    expect(result.Schema.map((c) => c.Name)).toEqual(['DeviceId', 'ProcessId', 'DeviceId1', 'OSPlatform']);
    expect(result.Results.map((r) => r.OSPlatform).sort()).toEqual([
      'Windows10',
      'Windows11',
      'WindowsServer2019',
    ]);
  });

  it('inner, leftouter, leftsemi, leftanti, rightanti, fullouter', async () => {
    expect((await run(`${left} | join kind=inner ${right} on DeviceId`)).Results).toHaveLength(6);
    const outer = await run(`${left} | join kind=leftouter ${right} on DeviceId | where DeviceId == "d3"`);
    expect(outer.Results.map((r) => [r.ProcessId, r.DeviceId1, r.OSPlatform])).toEqual(
      expect.arrayContaining([
        [31, '', ''],
        [32, '', ''],
      ]),
    );
    expect((await run(`${left} | join kind=leftouter ${right} on DeviceId`)).Results).toHaveLength(8);
    const semi = await run(`${left} | join kind=leftsemi ${right} on DeviceId`);
    expect(semi.Results.map((r) => r.ProcessId).sort()).toEqual([11, 12, 21, 22]);
    expect(semi.Schema.map((c) => c.Name)).toEqual(['DeviceId', 'ProcessId']);
    const anti = await run(`${left} | join kind=leftanti ${right} on DeviceId`);
    expect(anti.Results.map((r) => r.ProcessId).sort()).toEqual([31, 32]);
    const rightAnti = await run(`${left} | join kind=rightanti ${right} on DeviceId`);
    expect(rightAnti.Results).toEqual([{ DeviceId: 'd9', OSPlatform: 'Linux' }]);
    expect((await run(`${left} | join kind=fullouter ${right} on DeviceId`)).Results).toHaveLength(9);
  });

  it('$left and $right name the key of each side', async () => {
    const result = await run(
      `${left} | join kind=inner (DeviceInfo | project Dev = DeviceId, OSPlatform) on $left.DeviceId == $right.Dev`,
    );
    expect(result.Results).toHaveLength(6);
    expect(result.Schema.map((c) => c.Name)).toEqual(['DeviceId', 'ProcessId', 'Dev', 'OSPlatform']);
  });

  it('lookup adds the right side’s other columns', async () => {
    const result = await run(
      `${left} | lookup (DeviceInfo | where OSPlatform != "Windows10" | project DeviceId, OSPlatform) on DeviceId`,
    );
    expect(result.Schema.map((c) => c.Name)).toEqual(['DeviceId', 'ProcessId', 'OSPlatform']);
    expect(result.Results).toHaveLength(6);
  });
});

describe('union, mv-expand, parse, let, datatable', () => {
  it('union with wildcards and withsource', async () => {
    expect((await run('union DeviceProcessEvents, DeviceInfo | count')).Results).toEqual([{ Count: 10 }]);
    // DeviceI* is DeviceImageLoadEvents (empty) and DeviceInfo (4 rows).
    expect((await run('union DeviceI* | count')).Results).toEqual([{ Count: 4 }]);
    const sources = await run(
      'union withsource=T DeviceProcessEvents, DeviceInfo | summarize n = count() by T | sort by T asc',
    );
    expect(sources.Results).toEqual([
      { T: 'DeviceInfo', n: 4 },
      { T: 'DeviceProcessEvents', n: 6 },
    ]);
  });

  it('mv-expand makes a row per element; an empty array makes none', async () => {
    const { Results } = await run(
      'DeviceProcessEvents | where ProcessId in (11, 12) | extend t = parse_json(AdditionalFields).tags | mv-expand t to typeof(string) | project ProcessId, t',
    );
    expect(Results).toEqual([
      { ProcessId: 11, t: 'x' },
      { ProcessId: 11, t: 'y' },
    ]);
  });

  it('parse extracts typed columns', async () => {
    const { Results } = await run(
      'print x = "user=alice;id=42" | parse x with "user=" u ";id=" n:long | project u, n',
    );
    expect(Results).toEqual([{ u: 'alice', n: 42 }]);
  });

  it('let binds scalars, tables and functions; materialize; datatable', async () => {
    const { Results } = await run(
      'let least = 100; let big = DeviceProcessEvents | where FileSize > least; let twice = (n:long) { n * 2 }; big | project ProcessId, d = twice(FileSize) | sort by ProcessId asc',
    );
    expect(Results).toEqual([
      { ProcessId: 12, d: 400 },
      { ProcessId: 21, d: 600 },
    ]);
    expect(
      (await run('let m = materialize(DeviceProcessEvents | summarize c = count()); m | project c')).Results,
    ).toEqual([{ c: 6 }]);
    expect((await run('datatable(a:string, b:long)["x", 1, "y", 2] | summarize sum(b)')).Results).toEqual([
      { sum_b: 3 },
    ]);
  });
});

describe('serialized rows: prev, next, row_number, row_cumsum', () => {
  it('row_number restarts where its predicate holds (the documented per-airport ranking)', async () => {
    const { Results } = await run(
      'datatable(Airport:string, Airline:string, Departures:long)["TLV", "LH", 1, "TLV", "LY", 100, "SEA", "LH", 1, "SEA", "BA", 2, "SEA", "LY", 0] | sort by Airport asc, Departures desc | extend Rank = row_number(1, prev(Airport) != Airport)',
    );
    expect(Results).toEqual([
      { Airport: 'SEA', Airline: 'BA', Departures: 2, Rank: 1 },
      { Airport: 'SEA', Airline: 'LH', Departures: 1, Rank: 2 },
      { Airport: 'SEA', Airline: 'LY', Departures: 0, Rank: 3 },
      { Airport: 'TLV', Airline: 'LY', Departures: 100, Rank: 1 },
      { Airport: 'TLV', Airline: 'LH', Departures: 1, Rank: 2 },
    ]);
  });

  it('prev and next read the rows before and after in the sort order, with defaults', async () => {
    const { Results } = await run(
      "DeviceProcessEvents | sort by Timestamp asc | project ProcessId, gap = datetime_diff('minute', Timestamp, prev(Timestamp)), after = next(ProcessId, 1, 0), before2 = prev(ProcessId, 2)",
    );
    // Timestamps ascending: 11 10:05, 12 10:35, 21 11:10, 22 12:00, 31 00:00 (next day), 32 01:00.
    expect(Results).toEqual([
      { ProcessId: 11, gap: null, after: 12, before2: null },
      { ProcessId: 12, gap: 30, after: 21, before2: null },
      { ProcessId: 21, gap: 35, after: 22, before2: 11 },
      { ProcessId: 22, gap: 50, after: 31, before2: 12 },
      { ProcessId: 31, gap: 720, after: 32, before2: 21 },
      { ProcessId: 32, gap: 60, after: 0, before2: 22 },
    ]);
  });

  it('where and take keep the order; row_number in where numbers the rows where reads', async () => {
    const { Results } = await run(
      'DeviceProcessEvents | sort by ProcessId desc | where row_number() <= 3 | take 2 | project ProcessId, r = row_number(10)',
    );
    expect(Results).toEqual([
      { ProcessId: 32, r: 10 },
      { ProcessId: 31, r: 11 },
    ]);
  });

  it("mv-expand keeps each row's elements in place in the order", async () => {
    const { Results } = await run(
      'DeviceProcessEvents | top 2 by ProcessId | mv-expand t = dynamic(["a", "b"]) to typeof(string) | project ProcessId, t, n = row_number()',
    );
    expect(Results).toEqual([
      { ProcessId: 32, t: 'a', n: 1 },
      { ProcessId: 32, t: 'b', n: 2 },
      { ProcessId: 31, t: 'a', n: 3 },
      { ProcessId: 31, t: 'b', n: 4 },
    ]);
  });

  it('row_cumsum sums so far, afresh where its restart predicate holds; serialize keeps the order', async () => {
    const { Results } = await run(
      'DeviceProcessEvents | where isnotnull(FileSize) | sort by ProcessId asc | serialize | project ProcessId, all = row_cumsum(FileSize), perDevice = row_cumsum(FileSize, DeviceId != prev(DeviceId))',
    );
    // FileSize by ProcessId: 11 100, 12 200 (d1); 21 300 (d2; 22 has none); 31 50, 32 60 (d3).
    expect(Results).toEqual([
      { ProcessId: 11, all: 100, perDevice: 100 },
      { ProcessId: 12, all: 300, perDevice: 300 },
      { ProcessId: 21, all: 600, perDevice: 300 },
      { ProcessId: 31, all: 650, perDevice: 50 },
      { ProcessId: 32, all: 710, perDevice: 110 },
    ]);
  });

  it('a window function over rows with no order fails naming the function', () => {
    const { diagnostics } = compileQuery('DeviceProcessEvents | extend p = prev(ProcessId)', { now });
    expect(diagnostics[0]?.message).toBe(
      'prev() needs serialized rows (sort, order by, top or serialize before it)',
    );
    expect(diagnostics[0]?.span).toMatchObject({ line: 1, column: 34 });
  });
});

describe('scalars and values', () => {
  it('dynamic access by name, quoted name and index', async () => {
    const { Results } = await run(
      "IdentityLogonEvents | project a = AdditionalFields.x.y, b = AdditionalFields['k.v'], c = AdditionalFields.Spns[0], d = tostring(AdditionalFields.Spns[-1])",
    );
    expect(Results).toEqual([{ a: 'z', b: 1, c: 'cifs/srv2', d: 'host/ws1' }]);
    expect((await run('IdentityLogonEvents | where AdditionalFields.x.y == "z" | count')).Results).toEqual([
      { Count: 1 },
    ]);
  });

  it('now() and ago() are fixed once per query', async () => {
    // now = 2024-05-02T00:30Z: an hour ago is 2024-05-01T23:30Z.
    expect(await ids('Timestamp > ago(1h)')).toEqual([31, 32]);
    const { Results } = await run('print a = now(), b = now()');
    expect(Results).toEqual([{ a: '2024-05-02T00:30:00.0000000Z', b: '2024-05-02T00:30:00.0000000Z' }]);
  });

  it('a datetime of a time of day alone is that time today', async () => {
    // now() is 2024-05-02T00:30:00Z.
    const { Results } = await run(
      'print a = datetime("8:00:00 AM"), b = datetime("5:00:00 PM"), c = datetime(12:15 AM)',
    );
    expect(Results).toEqual([
      {
        a: '2024-05-02T08:00:00.0000000Z',
        b: '2024-05-02T17:00:00.0000000Z',
        c: '2024-05-02T00:15:00.0000000Z',
      },
    ]);
  });

  it('format_timespan writes days, hours, minutes, seconds and fractions by specifier', async () => {
    const { Results } = await run(
      "let t = time(29.09:00:05.12345); print v1 = format_timespan(t, 'dd.hh:mm:ss:FF'), v2 = format_timespan(t, 'ddd.h:mm:ss [fffffff]'), v3 = format_timespan(time(00:00:07), 'm:ss.FFF')",
    );
    expect(Results).toEqual([{ v1: '29.09:00:05:12', v2: '029.9:00:05 [1234500]', v3: '0:07.' }]);
  });

  it('TimeGenerated is Timestamp', async () => {
    expect(
      (await run('DeviceProcessEvents | where TimeGenerated >= datetime(2024-05-02) | count')).Results,
    ).toEqual([{ Count: 2 }]);
  });

  it('common scalar functions', async () => {
    const { Results } = await run(
      'print a = strcat("a", "b"), b = substring("abcdef", 2, 3), c = tostring(split("a,b,c", ",")[1]), d = extract("id=([0-9]+)", 1, "x id=42"), e = toint("12"), f = tolower("AbC"), g = strlen("héllo"), h = iff(1 > 2, "y", "n"), i = case(false, 1, true, 2, 3), j = replace_string("aXbX", "X", "-"), k = indexof("abc", "c"), l = array_length(dynamic([1,2,3])), m = tostring(123), n = datetime_diff("day", datetime(2024-01-03), datetime(2024-01-01)), o = startofday(datetime(2024-05-01 10:00)), p = bin(7, 5), q = 7 / 2, r = 7.0 / 2, s = datetime(2024-05-01 10:00) - datetime(2024-05-01 08:30), t = coalesce("", "x")',
    );
    expect(Results).toEqual([
      {
        a: 'ab',
        b: 'cde',
        c: 'b',
        d: '42',
        e: 12,
        f: 'abc',
        g: 5,
        h: 'n',
        i: 2,
        j: 'a-b-',
        k: 2,
        l: 3,
        m: '123',
        n: 2,
        o: '2024-05-01T00:00:00.0000000Z',
        p: 5,
        q: 3,
        r: 3.5,
        s: '01:30:00',
        t: 'x',
      },
    ]);
  });

  it('render is passed to the caller, not run', async () => {
    const result = await run(
      'DeviceProcessEvents | summarize count() by DeviceName | render barchart with (title="per device")',
    );
    expect(result.render).toEqual({ visualization: 'barchart', properties: { title: 'per device' } });
    expect(result.Results).toHaveLength(3);
  });
});

describe('search, find, mv-apply, top-nested, partition, ipv4_lookup', () => {
  it('search: a bare term is has over every string column; Column:"term" over one; $table names the table', async () => {
    // "cmd" is a whole term of 11 (cmd.exe), 21 (--cmd-line), 22 (CMD.EXE), 32 (cmd.exe); no DeviceInfo row has it.
    const { Results } = await run('search in (DeviceProcessEvents, DeviceInfo) "cmd"');
    expect(Results.map((r) => [r.$table, r.ProcessId]).sort()).toEqual([
      ['DeviceProcessEvents', 11],
      ['DeviceProcessEvents', 21],
      ['DeviceProcessEvents', 22],
      ['DeviceProcessEvents', 32],
    ]);
    // mycmd.exe does not have the term cmd.exe.
    const named = await run('search in (DeviceProcessEvents) FileName:"cmd.exe" | project ProcessId');
    expect(named.Results.map((r) => r.ProcessId).sort()).toEqual([11, 22, 32]);
    expect(await column('DeviceInfo | search "Linux"', 'DeviceId')).toEqual(['d9']);
  });

  it('find: rows of every table matching, source_ naming the table, missing columns null', async () => {
    const { Schema, Results } = await run(
      'find in (DeviceProcessEvents, DeviceInfo) where DeviceId == "d2" project DeviceName, ProcessId',
    );
    expect(Schema.map((c) => c.Name)).toEqual(['source_', 'DeviceName', 'ProcessId']);
    expect(Results.map((r) => [r.source_, r.DeviceName, r.ProcessId]).sort()).toEqual([
      ['DeviceInfo', 'srv2.corp', null],
      ['DeviceProcessEvents', 'srv2.corp', 21],
      ['DeviceProcessEvents', 'srv2.corp', 22],
    ]);
  });

  it("mv-apply runs the subquery over each row's elements, keeping the row's columns", async () => {
    // Spns is ["cifs/srv2","host/ws1"].
    const kept = await run(
      'IdentityLogonEvents | mv-apply Spn = AdditionalFields.Spns to typeof(string) on (where Spn startswith "cifs") | project AccountName, Spn',
    );
    expect(kept.Results).toEqual([{ AccountName: 'alice', Spn: 'cifs/srv2' }]);
    const projected = await run(
      'IdentityLogonEvents | mv-apply Spn = AdditionalFields.Spns to typeof(string) on (where Spn has "ws1" | project Spn) | project AccountName, Spn',
    );
    expect(projected.Results).toEqual([{ AccountName: 'alice', Spn: 'host/ws1' }]);
  });

  it('top-nested keeps the keys with the largest aggregate (smallest with asc)', async () => {
    // max(FileSize): ws1.corp 200, srv2.corp 300, ws3.corp 60.
    const { Schema, Results } = await run(
      'DeviceProcessEvents | top-nested 2 of DeviceName by max(FileSize)',
    );
    expect(Schema.map((c) => c.Name)).toEqual(['DeviceName', 'aggregated_DeviceName']);
    expect(Results).toEqual([
      { DeviceName: 'srv2.corp', aggregated_DeviceName: 300 },
      { DeviceName: 'ws1.corp', aggregated_DeviceName: 200 },
    ]);
    expect(
      await column('DeviceProcessEvents | top-nested 1 of DeviceName by max(FileSize) asc', 'DeviceName'),
    ).toEqual(['ws3.corp']);
  });

  it('partition by key (top 1 by x) keeps the row with the largest x per key', async () => {
    // d1: 12 (200 > 100); d2: 21 (300; 22 has none); d3: 32 (60 > 50).
    const { Schema, Results } = await run('DeviceProcessEvents | partition by DeviceId (top 1 by FileSize)');
    expect(Schema[0]?.Name).toBe('Timestamp');
    expect(Results.map((r) => r.ProcessId).sort()).toEqual([12, 21, 32]);
  });

  it('evaluate ipv4_lookup joins addresses to the CIDR ranges holding them', async () => {
    const query = (unmatched: string) =>
      `let ranges = datatable(Net:string, Label:string)["10.0.0.0/8", "ten", "192.168.1.0/24", "lab"];
       datatable(ip:string)["10.1.2.3", "192.168.1.7", "8.8.8.8"] | evaluate ipv4_lookup(ranges, ip, Net${unmatched}) | project ip, Label`;
    const inner = await run(query(''));
    expect(inner.Results.map((r) => [r.ip, r.Label]).sort()).toEqual([
      ['10.1.2.3', 'ten'],
      ['192.168.1.7', 'lab'],
    ]);
    const all = await run(query(', return_unmatched = true'));
    expect(all.Results.map((r) => [r.ip, r.Label]).sort()).toEqual([
      ['10.1.2.3', 'ten'],
      ['192.168.1.7', 'lab'],
      ['8.8.8.8', ''],
    ]);
  });

  it('count(x) counts the rows where x is not null; toscalar() of a scalar is the scalar', async () => {
    // FileSize is null on 22 only.
    expect(await column('DeviceProcessEvents | summarize count(FileSize)', 'count_FileSize')).toEqual([5]);
    expect(await column('print n = toscalar(array_length(dynamic([1, 2, 3])))', 'n')).toEqual([3]);
  });

  it('mv-expand of todynamic(Column) expands that column', async () => {
    // The bag has three keys: Spns, x and k.v.
    expect(
      await column('IdentityLogonEvents | mv-expand todynamic(AdditionalFields) | count', 'Count'),
    ).toEqual([3]);
  });

  it('Sentinel spellings AccountUPN and AccountSID read AccountUpn and AccountSid', async () => {
    expect(
      await column(
        'DeviceProcessEvents | where AccountUPN == AccountUpn and AccountSID == AccountSid | count',
        'Count',
      ),
    ).toEqual([6]);
  });

  it('set, index and code-point functions', async () => {
    const { Results } = await run(`print
      j = jaccard_index(dynamic([1, 2, 3]), dynamic([2, 3, 4])),
      i = has_any_index("this is an example", dynamic(["what", "example"])),
      none = has_any_index("abc", dynamic(["x"])),
      cps = unicode_codepoints_from_string("KQL"),
      s = make_string(dynamic([75, 81, 76])),
      bytes = base64_decode_toarray("S3VzdG8=")`);
    expect(Results).toEqual([
      { j: 0.5, i: 1, none: -1, cps: [75, 81, 76], s: 'KQL', bytes: [75, 117, 115, 116, 111] },
    ]);
  });
});

describe('diagnostics', () => {
  it('an unsupported feature is named with its line and column', () => {
    const { value, diagnostics } = compileQuery(
      'DeviceProcessEvents\n| extend d = parse_json(AdditionalFields)\n| evaluate bag_unpack(d)',
    );
    expect(value).toBeUndefined();
    expect(diagnostics).toMatchObject([
      { severity: 'error', code: 'kql/unsupported', span: { line: 3, column: 3 } },
    ]);
    expect(diagnostics[0]?.message).toContain('evaluate bag_unpack()');
  });

  it('a syntax error has its position', () => {
    const { diagnostics } = compileQuery('DeviceProcessEvents | where');
    expect(diagnostics[0]).toMatchObject({ code: 'kql/syntax', span: { line: 1 } });
  });

  it('externaldata over HTTPS fails with the offline error', () => {
    const { diagnostics } = compileQuery(
      'let iocs = externaldata(sha:string)[@"https://example.org/iocs.csv"] with (format="csv");\nDeviceProcessEvents | where SHA256 in (iocs)',
    );
    expect(diagnostics).toMatchObject([{ code: 'kql/offline', span: { line: 1, column: 12 } }]);
    expect(diagnostics[0]?.message).toContain('offline');
  });
});
