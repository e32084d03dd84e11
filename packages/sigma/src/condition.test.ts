// The condition language: each form as the tree it must parse to, with the precedence of the
// Sigma rules specification (or < and < not < x of < parentheses), and each error it reports.
import { describe, expect, it } from 'vitest';
import { parseCondition } from './condition.ts';
import { SigmaError } from './diagnostics.ts';
import type { Condition } from './rule.ts';

const s = (name: string): Condition => ({ kind: 'search', name });
const not = (item: Condition): Condition => ({ kind: 'not', item });
const and = (...items: Condition[]): Condition => ({ kind: 'and', items });
const or = (...items: Condition[]): Condition => ({ kind: 'or', items });

const names = [
  'selection',
  'selection_img',
  'selection_cli',
  'filter_main',
  'filter_optional',
  '_hidden',
  'keywords',
];

describe('parseCondition', () => {
  const cases: [text: string, expected: Condition][] = [
    ['selection', s('selection')],
    ['selection and keywords', and(s('selection'), s('keywords'))],
    ['selection or keywords', or(s('selection'), s('keywords'))],
    // and binds tighter than or, not tighter than and.
    [
      'selection or keywords and not filter_main',
      or(s('selection'), and(s('keywords'), not(s('filter_main')))),
    ],
    ['not selection and keywords', and(not(s('selection')), s('keywords'))],
    [
      '(selection or keywords) and not filter_main',
      and(or(s('selection'), s('keywords')), not(s('filter_main'))),
    ],
    ['not (selection or keywords)', not(or(s('selection'), s('keywords')))],
    ['not not selection', not(not(s('selection')))],
    ['selection and keywords and filter_main', and(s('selection'), s('keywords'), s('filter_main'))],
    // Operators are words in any case.
    [
      'selection AND NOT filter_main OR keywords',
      or(and(s('selection'), not(s('filter_main'))), s('keywords')),
    ],
    ['((selection))', s('selection')],
    // x of: "Matching is done with * wildcards (any number of characters) at arbitrary positions".
    [
      '1 of selection*',
      { kind: 'of', quantifier: 'any', names: ['selection', 'selection_img', 'selection_cli'] },
    ],
    ['all of selection_*', { kind: 'of', quantifier: 'all', names: ['selection_img', 'selection_cli'] }],
    ['1 of *_main', { kind: 'of', quantifier: 'any', names: ['filter_main'] }],
    ['1 of sel*_cli', { kind: 'of', quantifier: 'any', names: ['selection_cli'] }],
    // `them`: every identifier not starting with an underscore.
    [
      '1 of them',
      {
        kind: 'of',
        quantifier: 'any',
        names: ['selection', 'selection_img', 'selection_cli', 'filter_main', 'filter_optional', 'keywords'],
      },
    ],
    [
      'all of them',
      {
        kind: 'of',
        quantifier: 'all',
        names: ['selection', 'selection_img', 'selection_cli', 'filter_main', 'filter_optional', 'keywords'],
      },
    ],
    // An underscore identifier can still be named, or selected by a pattern.
    ['selection and not _hidden', and(s('selection'), not(s('_hidden')))],
    ['1 of _*', { kind: 'of', quantifier: 'any', names: ['_hidden'] }],
    // x of binds tighter than not, and.
    [
      'all of selection_* and not 1 of filter_*',
      and(
        { kind: 'of', quantifier: 'all', names: ['selection_img', 'selection_cli'] },
        not({ kind: 'of', quantifier: 'any', names: ['filter_main', 'filter_optional'] }),
      ),
    ],
    ['  selection\n  and keywords  ', and(s('selection'), s('keywords'))],
  ];
  it.each(cases)('parses %j', (text, expected) => {
    expect(parseCondition(text, names)).toEqual(expected);
  });
});

describe('parseCondition errors', () => {
  function failure(text: string): { code: string; message: string } {
    try {
      parseCondition(text, names);
    } catch (e) {
      if (e instanceof SigmaError) return { code: e.code, message: e.message };
      throw e;
    }
    throw new Error(`condition '${text}' was accepted`);
  }

  const cases: [text: string, code: string, message: string][] = [
    [
      'selection and nosuch',
      'sigma/unknown-search',
      "condition names 'nosuch' (column 15), which is not a search identifier of this rule",
    ],
    // Identifiers are case-sensitive: `Selection` is not `selection`.
    [
      'Selection',
      'sigma/unknown-search',
      "condition names 'Selection' (column 1), which is not a search identifier of this rule",
    ],
    [
      '1 of nomatch*',
      'sigma/bad-condition',
      "pattern 'nomatch*' matches no search identifier at column 6 of condition '1 of nomatch*'",
    ],
    [
      'selection | count() > 5',
      'sigma/bad-condition',
      "aggregation after '|' is not supported; write a correlation rule instead at column 11 of condition 'selection | count() > 5'",
    ],
    ['(selection', 'sigma/bad-condition', "expected ')' at the end of condition '(selection'"],
    ['selection)', 'sigma/bad-condition', "unexpected ')' at column 10 of condition 'selection)'"],
    [
      'selection keywords',
      'sigma/bad-condition',
      "unexpected 'keywords' at column 11 of condition 'selection keywords'",
    ],
    [
      'selection and',
      'sigma/bad-condition',
      "expected a search identifier at the end of condition 'selection and'",
    ],
    ['or selection', 'sigma/bad-condition', "unexpected 'or' at column 1 of condition 'or selection'"],
    ['', 'sigma/bad-condition', "expected a search identifier at the end of condition ''"],
    [
      '1 of',
      'sigma/bad-condition',
      "expected 'them' or an identifier pattern after '1 of' at the end of condition '1 of'",
    ],
    [
      'all of (selection)',
      'sigma/bad-condition',
      "expected 'them' or an identifier pattern after 'all of' at column 8 of condition 'all of (selection)'",
    ],
  ];
  it.each(cases)('rejects %j', (text, code, message) => {
    expect(failure(text)).toEqual({ code, message });
  });

  it("rejects 'them' when every identifier starts with an underscore, rather than matching everything", () => {
    expect(() => parseCondition('all of them', ['_helper', '_other'])).toThrow(
      "'them' selects nothing: every search identifier starts with '_' at column 8 of condition 'all of them'",
    );
  });
});
