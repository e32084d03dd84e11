// Log-source pipelines: how a rule's logsource resolves to channels, event ids and field
// renames through the built-in Windows pipeline and a user's pipeline, and how bad pipeline
// entries are reported.
import { describe, expect, it } from 'vitest';
import { combinePipelines, parsePipeline, resolveLogSource, windowsPipeline } from './pipeline.ts';

const lines = (...l: string[]) => `${l.join('\n')}\n`;

describe('resolveLogSource with the built-in Windows pipeline', () => {
  const windows = windowsPipeline();

  it('resolves process_creation to Sysmon event 1 and Security event 4688 with its renames', () => {
    expect(resolveLogSource(windows, { product: 'windows', category: 'process_creation' })).toEqual([
      {
        channels: ['Microsoft-Windows-Sysmon/Operational'],
        conditions: { EventID: ['1'] },
        fieldMappings: {},
        entries: ['process_creation-sysmon', 'sysmon'],
      },
      {
        channels: ['Security'],
        conditions: { EventID: ['4688'] },
        fieldMappings: { Image: 'NewProcessName', ParentImage: 'ParentProcessName' },
        entries: ['process_creation-security', 'security'],
      },
    ]);
  });

  it('resolves a service to its channels', () => {
    expect(resolveLogSource(windows, { product: 'windows', service: 'powershell' })).toEqual([
      {
        channels: ['Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational'],
        conditions: {},
        fieldMappings: {},
        entries: ['powershell'],
      },
    ]);
  });

  it('keeps only the variant of the named service when a rule gives category and service', () => {
    expect(
      resolveLogSource(windows, {
        product: 'windows',
        category: 'process_creation',
        service: 'security',
      }).map((v) => v.entries),
    ).toEqual([['process_creation-security', 'security']]);
  });

  it('resolves nothing for sources it does not know', () => {
    expect(resolveLogSource(windows, { product: 'linux', category: 'process_creation' })).toEqual([]);
    expect(resolveLogSource(windows, { product: 'windows', service: 'nosuch' })).toEqual([]);
    expect(resolveLogSource(windows, { product: 'windows' })).toEqual([]);
  });
});

describe('user pipelines', () => {
  it('adds a service and a category on top of the built-in pipeline', () => {
    const { pipeline, diagnostics } = parsePipeline(
      lines(
        'name: site',
        'logsources:',
        '  - name: myapp',
        '    match: { product: windows, service: myapp }',
        "    channels: ['MyApp/Operational']",
        '    fieldmappings: { User: AccountName }',
        '  - name: myapp_login',
        '    match: { product: windows, category: myapp_login }',
        '    conditions: { EventID: [100, 101], Outcome: success }',
        '    service: myapp',
      ),
      'site.yml',
    );
    expect(diagnostics).toEqual([]);
    const combined = combinePipelines(windowsPipeline(), pipeline ?? { name: 'none', entries: [] });
    expect(combined.name).toBe('windows+site');
    expect(resolveLogSource(combined, { product: 'windows', service: 'myapp' })).toEqual([
      {
        channels: ['MyApp/Operational'],
        conditions: {},
        fieldMappings: { User: 'AccountName' },
        entries: ['myapp'],
      },
    ]);
    expect(resolveLogSource(combined, { product: 'windows', category: 'myapp_login' })).toEqual([
      {
        channels: ['MyApp/Operational'],
        conditions: { EventID: ['100', '101'], Outcome: ['success'] },
        fieldMappings: { User: 'AccountName' },
        entries: ['myapp_login', 'myapp'],
      },
    ]);
  });

  it('replaces a built-in entry of the same name', () => {
    const { pipeline } = parsePipeline(
      lines(
        'name: site',
        'logsources:',
        '  - name: process_creation-security',
        '    match: { product: windows, category: process_creation }',
        '    conditions: { EventID: [4688] }',
        '    service: security',
        '    fieldmappings: { Image: NewProcessName }',
      ),
      'site.yml',
    );
    const combined = combinePipelines(windowsPipeline(), pipeline ?? { name: 'none', entries: [] });
    expect(
      resolveLogSource(combined, { product: 'windows', category: 'process_creation' }).map((v) => [
        v.entries,
        v.fieldMappings,
      ]),
    ).toEqual([
      [['process_creation-sysmon', 'sysmon'], {}],
      [['process_creation-security', 'security'], { Image: 'NewProcessName' }],
    ]);
  });

  it('reports each bad entry with its line and keeps the good ones', () => {
    const { pipeline, diagnostics } = parsePipeline(
      lines(
        'name: site',
        'logsources:',
        '  - match: { service: a }',
        "    channels: ['A']",
        '  - name: b',
        "    channels: ['B']",
        '  - name: c',
        '    match: { service: c }',
        '    conditions: [EventID]',
        '  - name: d',
        '    match: { service: d }',
        '  - name: good',
        '    match: { product: windows, service: good }',
        "    channels: ['Good']",
        '  - name: e',
        '    match: { service: e }',
        "    channels: ['E']",
        '    fieldmappings: [x]',
        '  - name: f',
        '    match: { service: f }',
        '    conditions: { EventID: { a: 1 } }',
        "    channels: ['F']",
      ),
      'site.yml',
    );
    const bad = (line: number, message: string) => ({
      severity: 'error',
      code: 'sigma/bad-pipeline',
      message,
      file: 'site.yml',
      line,
    });
    expect(diagnostics).toEqual([
      bad(3, "logsource entry 1 needs a 'name'"),
      bad(5, "logsource 'b' needs a non-empty 'match' map"),
      bad(7, "logsource 'c': 'conditions' must be a map"),
      bad(10, "logsource 'd' needs 'channels' or a 'service' to read them from"),
      bad(15, "logsource 'e': 'fieldmappings' must be a map"),
      bad(19, "logsource 'f': condition 'EventID' must be a value or a list"),
    ]);
    expect(pipeline?.entries.map((e) => e.name)).toEqual(['good']);
  });

  it('reports a file without logsources, and invalid YAML with its line', () => {
    expect(parsePipeline('name: x\n', 'p.yml')).toEqual({
      diagnostics: [
        {
          severity: 'error',
          code: 'sigma/bad-pipeline',
          message: "a pipeline needs a 'logsources' list",
          file: 'p.yml',
          line: 1,
        },
      ],
    });
    expect(
      parsePipeline(lines('name: x', 'logsources:', '  - name: [a', '  - b'), 'p.yml').diagnostics,
    ).toEqual([
      { severity: 'error', code: 'sigma/yaml', message: expect.any(String), file: 'p.yml', line: 4 },
    ]);
  });
});
