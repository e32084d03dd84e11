// The palisade command's commands as data: names, arguments, options and help text. The
// dispatcher and the help printer both read this table.

export interface OptionSpec {
  readonly name: string;
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly values?: readonly string[];
  readonly default?: string;
  readonly help: string;
}

export interface CommandSpec {
  /** Words that select the command, e.g. ['evtx', 'dump']. */
  readonly path: readonly string[];
  readonly usage: string;
  readonly summary: string;
  readonly minArgs: number;
  readonly options: readonly OptionSpec[];
  readonly details: string;
}

export const dumpFormats = ['xml', 'json', 'jsonl'] as const;
export type DumpFormat = (typeof dumpFormats)[number];

export const commands: readonly CommandSpec[] = [
  {
    path: ['evtx', 'dump'],
    usage: 'palisade evtx dump FILE… [--format xml|json|jsonl]',
    summary: 'print the records of Windows event log (.evtx) files',
    minArgs: 1,
    options: [
      {
        name: 'format',
        type: 'string',
        short: 'f',
        values: dumpFormats,
        default: 'jsonl',
        help: 'xml: the event XML Windows renders; json: one array; jsonl: one event per line',
      },
    ],
    details: [
      'Records are read chunk by chunk, so files of any size use the same memory.',
      'Records recovered past what the file or chunk headers count are included and',
      'marked ("recovered": true in JSON, a comment before the event in XML).',
      'Corruption is reported on stderr per record or chunk, naming file, chunk,',
      'record and offset; reading goes on with the next record or chunk.',
    ].join('\n'),
  },
];

/** Exit codes, documented in the package README. */
export const ExitCode = {
  ok: 0,
  /** A file could not be read, or records or chunks in it were skipped as corrupt. */
  inputErrors: 1,
  /** The command line was wrong. */
  usage: 2,
} as const;
