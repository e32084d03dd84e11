import { describe, expect, it } from 'vitest';
import { compileQuery } from './compile.ts';

describe('compileQuery', () => {
  it('returns SQL, parameters and the schema in Kusto type names', () => {
    const { value, diagnostics } = compileQuery(
      'DeviceProcessEvents | where FileName =~ "CMD.EXE" | summarize n = count(), earliest = min(Timestamp) by DeviceName',
    );
    expect(diagnostics).toEqual([]);
    expect(value?.schema).toEqual([
      { Name: 'DeviceName', Type: 'string' },
      { Name: 'n', Type: 'long' },
      { Name: 'earliest', Type: 'datetime' },
    ]);
    expect(Object.values(value?.params ?? {})).toEqual(['cmd.exe']);
    expect(value?.sql).not.toContain('cmd.exe');
  });

  it('binds a dynamic literal as one JSON parameter', () => {
    const { value } = compileQuery('print d = dynamic({"a b": 1, \'c\': [1, "x"], "n": null})');
    expect(Object.values(value?.params ?? {}).map((v) => JSON.parse(String(v)))).toEqual([
      { 'a b': 1, c: [1, 'x'], n: null },
    ]);
  });

  it('warns where Palisade cannot do what Defender does, and still compiles', () => {
    const { value, diagnostics } = compileQuery(
      'DeviceProcessEvents | invoke FileProfile(SHA1, 1000) | project GlobalPrevalence',
    );
    expect(value?.schema).toEqual([{ Name: 'GlobalPrevalence', Type: 'long' }]);
    expect(diagnostics).toMatchObject([{ severity: 'warning' }]);
  });

  it('names an unknown dialect', () => {
    const { diagnostics } = compileQuery('print 1', { dialect: 'nosuch' as 'duckdb' });
    expect(diagnostics[0]?.code).toBe('kql/unknown-dialect');
  });
});
