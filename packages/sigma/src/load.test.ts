// The loader: typed documents from YAML text, a diagnostic naming file, line and feature for
// each document it cannot use, loading past bad documents, and Sigma collections.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSigmaPaths, loadSigmaText } from './load.ts';

// Joins lines, so that the line numbers in expectations can be counted from the array.
const lines = (...l: string[]) => `${l.join('\n')}\n`;

const goodRule = (title: string) =>
  lines(
    `title: ${title}`,
    'logsource: { product: windows, service: security }',
    'detection:',
    '  selection:',
    '    EventID: 4624',
    '  condition: selection',
  );

describe('loadSigmaText', () => {
  it('reads a detection rule into its typed form', () => {
    const text = lines(
      'title: Whoami',
      'id: 1b2c',
      'status: test',
      'level: high',
      'tags: [attack.discovery, attack.t1033]',
      'logsource:',
      '  product: Windows',
      '  category: process_creation',
      'detection:',
      '  selection:',
      "    Image|endswith: '\\whoami.exe'",
      '    User: [a, b]',
      '  condition: selection',
      'fields: [CommandLine]',
    );
    expect(loadSigmaText(text, 'r.yml')).toEqual({
      documents: [
        {
          kind: 'detection',
          title: 'Whoami',
          id: '1b2c',
          status: 'test',
          level: 'high',
          tags: ['attack.discovery', 'attack.t1033'],
          references: [],
          falsepositives: [],
          source: { file: 'r.yml', line: 1 },
          // Logsource values are lower case (Sigma rules specification, LogSource).
          logsource: { product: 'windows', category: 'process_creation' },
          searches: {
            selection: {
              kind: 'fields',
              groups: [
                [
                  {
                    field: 'Image',
                    modifiers: ['endswith'],
                    tests: [
                      {
                        kind: 'pattern',
                        pattern: [{ kind: 'any' }, { kind: 'text', text: '\\whoami.exe' }],
                        cased: false,
                      },
                    ],
                    all: false,
                  },
                  {
                    field: 'User',
                    modifiers: [],
                    tests: [
                      { kind: 'pattern', pattern: [{ kind: 'text', text: 'a' }], cased: false },
                      { kind: 'pattern', pattern: [{ kind: 'text', text: 'b' }], cased: false },
                    ],
                    all: false,
                  },
                ],
              ],
            },
          },
          condition: { kind: 'search', name: 'selection' },
          fields: ['CommandLine'],
        },
      ],
      diagnostics: [],
      attempted: 1,
    });
  });

  it('reads keyword lists and the |all keyword form', () => {
    const text = lines(
      'title: k',
      'logsource: { product: windows, service: system }',
      'detection:',
      '  keywords:',
      "    - 'event::clear'",
      "    - 'event::drop'",
      '  cmdlet:',
      "    '|all':",
      '      - OabVirtualDirectory',
      "      - ' -ExternalUrl '",
      '  condition: keywords or cmdlet',
    );
    const [rule] = loadSigmaText(text, 'k.yml').documents;
    expect(rule?.kind === 'detection' ? rule.searches : undefined).toEqual({
      keywords: {
        kind: 'keywords',
        tests: [
          { kind: 'pattern', pattern: [{ kind: 'text', text: 'event::clear' }], cased: false },
          { kind: 'pattern', pattern: [{ kind: 'text', text: 'event::drop' }], cased: false },
        ],
        all: false,
      },
      cmdlet: {
        kind: 'keywords',
        tests: [
          { kind: 'pattern', pattern: [{ kind: 'text', text: 'OabVirtualDirectory' }], cased: false },
          { kind: 'pattern', pattern: [{ kind: 'text', text: ' -ExternalUrl ' }], cased: false },
        ],
        all: true,
      },
    });
  });

  it('reads a correlation rule', () => {
    const text = lines(
      'title: Many failed logons',
      'id: c1',
      'level: high',
      'correlation:',
      '  type: value_count',
      '  rules: [failed_logon]',
      '  group-by: [IpAddress]',
      '  timespan: 15m',
      '  condition:',
      '    gte: 10',
      '    field: TargetUserName',
      '  aliases:',
      '    ip: { failed_logon: IpAddress }',
    );
    expect(loadSigmaText(text, 'c.yml').documents).toEqual([
      {
        kind: 'correlation',
        title: 'Many failed logons',
        id: 'c1',
        level: 'high',
        tags: [],
        references: [],
        falsepositives: [],
        source: { file: 'c.yml', line: 1 },
        type: 'value_count',
        rules: ['failed_logon'],
        groupBy: ['IpAddress'],
        timespanMs: 15 * 60_000,
        condition: { ops: [{ op: 'gte', value: 10 }], field: 'TargetUserName' },
        aliases: { ip: { failed_logon: 'IpAddress' } },
        generate: false,
      },
    ]);
  });
});

describe('diagnostics name file, line and feature', () => {
  it('reports invalid YAML at its line', () => {
    const text = lines(
      'title: broken',
      'logsource: { product: windows, service: security }',
      'detection:',
      '  selection: [4624, 4625',
      '  condition: selection',
    );
    const result = loadSigmaText(text, 'broken.yml');
    expect(result).toEqual({
      documents: [],
      diagnostics: [
        {
          severity: 'error',
          code: 'sigma/yaml',
          message: expect.stringMatching(/^invalid YAML: .*\]/),
          file: 'broken.yml',
          // The line after the unclosed list, where the reader finds it unclosed.
          line: 5,
        },
      ],
      attempted: 1,
    });
  });

  const cases: [feature: string, text: string, diagnostic: object][] = [
    [
      'an unknown modifier, at its field',
      lines(
        'title: m',
        'logsource: { product: windows, service: security }',
        'detection:',
        '  selection:',
        '    EventID: 4624',
        '    TargetUserName|beginswith: adm',
        '  condition: selection',
      ),
      { code: 'sigma/unknown-modifier', message: "unknown modifier 'beginswith'", line: 6, rule: 'm' },
    ],
    [
      'an unknown search identifier, at the condition',
      lines(
        'title: u',
        'logsource: { product: windows, service: security }',
        'detection:',
        '  selection:',
        '    EventID: 4624',
        '  condition: selection and not filter',
      ),
      {
        code: 'sigma/unknown-search',
        message: "condition names 'filter' (column 19), which is not a search identifier of this rule",
        line: 6,
        rule: 'u',
      },
    ],
    [
      'a bad regular expression, at its field',
      lines(
        'title: r',
        'logsource: { product: windows, category: process_creation }',
        'detection:',
        '  selection:',
        "    CommandLine|re: 'a(b'",
        '  condition: selection',
      ),
      {
        code: 'sigma/bad-value',
        message: expect.stringMatching(
          /^invalid regular expression "a\(b": Invalid regular expression: .*Unterminated/,
        ),
        line: 5,
        rule: 'r',
      },
    ],
    [
      'an unknown placeholder, at its field',
      lines(
        'title: p',
        'logsource: { product: windows, service: security }',
        'detection:',
        '  selection:',
        '    EventID: 4624',
        "    TargetUserName|expand: '%Admins%'",
        '  condition: selection',
      ),
      {
        code: 'sigma/unknown-placeholder',
        message: 'placeholder %Admins% has no values; give them in a placeholder file',
        line: 6,
        rule: 'p',
      },
    ],
    [
      'a missing title, at the document',
      lines(
        'logsource: { product: windows, service: security }',
        'detection:',
        '  selection:',
        '    EventID: 4624',
        '  condition: selection',
      ),
      { code: 'sigma/missing-field', message: "a rule needs a 'title'", line: 1 },
    ],
    [
      'a missing detection, at the document',
      lines('title: d', 'logsource: { product: windows, service: security }'),
      {
        code: 'sigma/not-a-rule',
        message: "no 'detection', 'correlation' or 'filter' section",
        line: 1,
        rule: 'd',
      },
    ],
    [
      'a missing condition, at the detection',
      lines('title: c', 'logsource: { product: windows }', 'detection:', '  selection:', '    EventID: 1'),
      { code: 'sigma/missing-field', message: "a detection needs a 'condition'", line: 4, rule: 'c' },
    ],
    [
      'a Sigma 1 aggregation, at the condition',
      lines(
        'title: a',
        'logsource: { product: windows, service: security }',
        'detection:',
        '  selection:',
        '    EventID: 4625',
        '  condition: selection | count() by IpAddress > 10',
      ),
      {
        code: 'sigma/bad-condition',
        message:
          "aggregation after '|' is not supported; write a correlation rule instead at column 11 of condition 'selection | count() by IpAddress > 10'",
        line: 6,
        rule: 'a',
      },
    ],
    [
      'a bad correlation timespan, at the timespan',
      lines(
        'title: t',
        'correlation:',
        '  type: event_count',
        '  rules: [x]',
        '  timespan: 1 hour',
        '  condition: { gte: 3 }',
      ),
      {
        code: 'sigma/bad-correlation',
        message: '\'timespan\' must be a number with unit s, m, h, d or w, found "1 hour"',
        line: 5,
        rule: 't',
      },
    ],
  ];
  it.each(cases)('reports %s', (_feature, text, diagnostic) => {
    expect(loadSigmaText(text, 'rules/x.yml')).toEqual({
      documents: [],
      diagnostics: [{ severity: 'error', file: 'rules/x.yml', ...diagnostic }],
      attempted: 1,
    });
  });

  it('loads a rule with placeholders when their values are given', () => {
    const text = lines(
      'title: p',
      'logsource: { product: windows, service: security }',
      'detection:',
      '  selection:',
      "    TargetUserName|expand: '%Admins%'",
      '  condition: selection',
    );
    const result = loadSigmaText(text, 'p.yml', { placeholders: { Admins: ['root'] } });
    expect(result.diagnostics).toEqual([]);
    expect(result.documents.map((d) => d.title)).toEqual(['p']);
  });
});

describe('multi-document files', () => {
  it('goes on past a document it cannot use', () => {
    const text = [
      goodRule('first'),
      lines(
        'title: second',
        'logsource: { product: windows, service: security }',
        'detection:',
        '  selection:',
        '    EventID|nosuch: 1',
        '  condition: selection',
      ),
      goodRule('third'),
    ].join('---\n');
    expect(loadSigmaText(text, 'multi.yml')).toMatchObject({
      documents: [
        { title: 'first', source: { file: 'multi.yml', line: 1 } },
        { title: 'third', source: { file: 'multi.yml', line: 15 } },
      ],
      diagnostics: [
        {
          severity: 'error',
          code: 'sigma/unknown-modifier',
          message: "unknown modifier 'nosuch'",
          file: 'multi.yml',
          line: 12,
          rule: 'second',
        },
      ],
      attempted: 3,
    });
  });

  it('goes on past a document that is not valid YAML', () => {
    const text = [
      goodRule('first'),
      lines('title: second', 'detection:', '  selection: { EventID: 1', '  condition: selection'),
      goodRule('third'),
    ].join('---\n');
    const result = loadSigmaText(text, 'multi.yml');
    expect(result.documents.map((d) => [d.title, d.source.line])).toEqual([
      ['first', 1],
      ['third', 13],
    ]);
    expect(result.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'sigma/yaml',
        message: expect.stringMatching(/^invalid YAML: .*\}/),
        file: 'multi.yml',
        // The line after the unclosed map, where the reader finds it unclosed.
        line: 11,
      },
    ]);
    expect(result.attempted).toBe(3);
  });

  it('names the right line after an empty document', () => {
    const text = lines(
      goodRule('first').trimEnd(),
      '---',
      '# nothing here',
      '---',
      'title: second',
      'logsource: { product: windows, service: security }',
      'detection:',
      '  selection:',
      '    EventID: 4624',
      '  condition: selection and nosuch',
    );
    expect(loadSigmaText(text, 'e.yml').diagnostics).toEqual([
      {
        severity: 'error',
        code: 'sigma/unknown-search',
        message: "condition names 'nosuch' (column 15), which is not a search identifier of this rule",
        file: 'e.yml',
        line: 15,
        rule: 'second',
      },
    ]);
  });
});

describe('collections', () => {
  it('merges action: global into each following document until action: reset', () => {
    const text = lines(
      'action: global',
      'title: Suspicious service',
      'level: high',
      'logsource: { product: windows, service: system }',
      'detection:',
      '  condition: selection',
      '---',
      'detection:',
      '  selection:',
      '    EventID: 7045',
      '---',
      'title: Suspicious service from Security',
      'logsource: { service: security }',
      'detection:',
      '  selection:',
      '    EventID: 4697',
      '---',
      'action: reset',
      '---',
      'title: Alone',
      'logsource: { product: windows, service: system }',
      'detection:',
      '  selection:',
      '    EventID: 1',
      '  condition: selection',
    );
    const result = loadSigmaText(text, 'collection.yml');
    expect(result.diagnostics).toEqual([]);
    expect(result.attempted).toBe(3);
    expect(
      result.documents.map((d) =>
        d.kind === 'detection' ? [d.title, d.level, d.logsource, d.searches, d.condition, d.source.line] : [],
      ),
    ).toEqual([
      [
        'Suspicious service',
        'high',
        { product: 'windows', service: 'system' },
        { selection: { kind: 'fields', groups: [[eventIdTest('7045')]] } },
        { kind: 'search', name: 'selection' },
        8,
      ],
      [
        'Suspicious service from Security',
        'high',
        // Maps merge key by key: the document's service replaces the global one.
        { product: 'windows', service: 'security' },
        { selection: { kind: 'fields', groups: [[eventIdTest('4697')]] } },
        { kind: 'search', name: 'selection' },
        12,
      ],
      [
        'Alone',
        'medium',
        { product: 'windows', service: 'system' },
        { selection: { kind: 'fields', groups: [[eventIdTest('1')]] } },
        { kind: 'search', name: 'selection' },
        20,
      ],
    ]);
  });

  it('repeats the previous document with changes under action: repeat', () => {
    const text = lines(goodRule('base').trimEnd(), '---', 'action: repeat', 'title: repeated', 'level: low');
    expect(loadSigmaText(text, 'r.yml').documents.map((d) => [d.title, d.level, d.kind])).toEqual([
      ['base', 'medium', 'detection'],
      ['repeated', 'low', 'detection'],
    ]);
  });
});

function eventIdTest(id: string) {
  return {
    field: 'EventID',
    modifiers: [],
    tests: [{ kind: 'pattern', pattern: [{ kind: 'text', text: id }], cased: false }],
    all: false,
  };
}

describe('loadSigmaPaths', () => {
  it('reads .yml and .yaml files under folders in sorted order, and reports unreadable paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-sigma-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'b.yml'), goodRule('b'));
    writeFileSync(join(dir, 'a.yaml'), goodRule('a'));
    writeFileSync(join(dir, 'sub', 'c.yml'), goodRule('c'));
    writeFileSync(join(dir, 'notes.txt'), 'not a rule');
    const missing = join(dir, 'missing.yml');
    const result = loadSigmaPaths([dir, missing]);
    expect(result.documents.map((d) => [d.title, d.source.file])).toEqual([
      ['a', join(dir, 'a.yaml')],
      ['b', join(dir, 'b.yml')],
      ['c', join(dir, 'sub', 'c.yml')],
    ]);
    expect(result.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'sigma/read',
        message: `ENOENT: no such file or directory, stat '${missing}'`,
        file: missing,
      },
    ]);
    expect(result.attempted).toBe(3);
  });
});
