// The palisade command's commands as data: names, arguments, options and help text. The
// dispatcher and the help printer both read this table.
import { defaultDataDir, defaultListen } from '@palisade/server';

export interface OptionSpec {
  readonly name: string;
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  readonly values?: readonly string[];
  readonly default?: string;
  readonly help: string;
}

/** Parsed option values, by option name. */
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

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
export const scanFormats = ['table', 'csv', 'json', 'jsonl'] as const;
export type ScanFormat = (typeof scanFormats)[number];
export const levels = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export const captureFormats = ['text', 'json'] as const;
export type CaptureFormat = (typeof captureFormats)[number];

export const commands: readonly CommandSpec[] = [
  {
    path: ['up'],
    usage:
      'palisade up [--data DIR] [--domain NAME] [--listen HOST:PORT] [--rules DIR…] [--identity-config FILE]',
    summary: 'create or reopen the instance in a data directory and serve it over HTTPS',
    minArgs: 0,
    options: [
      {
        name: 'data',
        type: 'string',
        short: 'd',
        default: defaultDataDir,
        help: 'the data directory: keys, event store, state store; fixed once the instance is created',
      },
      {
        name: 'domain',
        type: 'string',
        help: "the directory's DNS domain the instance is named after (first run; asked on a terminal when absent)",
      },
      {
        name: 'listen',
        type: 'string',
        short: 'l',
        default: `${defaultListen.host}:${defaultListen.port}`,
        help: 'the address and port to serve HTTPS on (port 0 picks a free one)',
      },
      {
        name: 'rules',
        type: 'string',
        short: 'r',
        multiple: true,
        help: 'a Sigma rule file or folder (repeatable), run over the raw Windows events sensors send',
      },
      {
        name: 'identity-config',
        type: 'string',
        help: 'a YAML file for the identity detectors: honeytokens, sensitive groups and accounts, domain controllers, levels, test mode, exclusions',
      },
    ],
    details: [
      'The first run creates the instance in the data directory: an instance CA (pki/ca.pem',
      "and ca.key), the server certificate, the sensors' access key, the event store",
      '(events.duckdb) and the state store (state.sqlite), and a first administrator, admin,',
      'whose one-time password is printed once, or taken from PALISADE_ADMIN_PASSWORD. Later',
      'runs reopen the same instance; another --domain is refused. The instance serves the',
      'API, sensor registration (with the access key) and the mTLS sensor channel on one',
      'HTTPS listener. Logs are JSON lines on stderr, with secrets redacted.',
      'Environment: PALISADE_ADMIN_PASSWORD (first run), PALISADE_KEY_PASSPHRASE (encrypts the',
      'private keys at rest), PALISADE_DUCKDB_MEMORY_LIMIT (default 1GB).',
      'Exit codes: 0 stopped by SIGINT or SIGTERM; 1 the instance could not start (port in use,',
      '  unreadable keys or stores); 2 bad command line, configuration, or no domain on a first run.',
    ].join('\n'),
  },
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
  {
    path: ['scan'],
    usage:
      'palisade scan PATH… [--rules DIR…] [--pipeline FILE] [--placeholders FILE] [--identity-config FILE] [--no-identity] [--min-level LEVEL] [--format table|csv|json|jsonl] [--output FILE]',
    summary:
      "run Sigma rules and Palisade's identity detectors over event logs and print a timeline of detections",
    minArgs: 1,
    options: [
      {
        name: 'rules',
        type: 'string',
        short: 'r',
        multiple: true,
        help: 'a Sigma rule file or folder (repeatable); folders are read recursively',
      },
      {
        name: 'pipeline',
        type: 'string',
        short: 'p',
        multiple: true,
        help: 'a log-source pipeline YAML file added to the built-in Windows one (repeatable)',
      },
      {
        name: 'placeholders',
        type: 'string',
        help: "a YAML map of placeholder name to values, for rules using '|expand'",
      },
      {
        name: 'identity-config',
        type: 'string',
        help: 'a YAML file for the identity detectors: honeytokens, sensitive groups and accounts, domain controllers, levels, test mode, exclusions',
      },
      {
        name: 'no-identity',
        type: 'boolean',
        help: "run Sigma rules only, not Palisade's identity detectors",
      },
      {
        name: 'min-level',
        type: 'string',
        short: 'l',
        values: levels,
        default: 'informational',
        help: 'report only alerts at or above this level',
      },
      {
        name: 'format',
        type: 'string',
        short: 'f',
        values: scanFormats,
        default: 'table',
        help: 'table: aligned text and a summary; csv; json: one document; jsonl: one alert per line',
      },
      { name: 'output', type: 'string', short: 'o', help: 'write results to this file instead of stdout' },
    ],
    details: [
      'PATH may be .evtx files, JSON or JSON-lines event files (Windows events as JSON, or',
      "'palisade evtx dump' output), Samba AD JSON audit logs, and folders, read recursively.",
      "Alerts are sorted by time. Palisade's identity detectors (Defender for Identity's alert",
      'catalogue: brute force, DCSync, sensitive groups, …) run unless --no-identity is given.',
      'The summary counts alerts per level, lists the top rules and the files with errors;',
      'with --format table it follows the table, otherwise it goes to stderr (json includes it).',
      'A progress bar is shown on stderr when it is a terminal.',
      'Rules that cannot be loaded are reported on stderr with file, line and reason.',
      'Exit codes: 0 done; 1 some input could not be read (named on stderr);',
      '2 bad command line, a bad configuration file, or nothing to run (no rule loaded and',
      '  --no-identity).',
    ].join('\n'),
  },
  {
    path: ['capture'],
    usage:
      'palisade capture --interface IFACE [--filter BPF] [--dc-address IP…] [--identity-config FILE] [--format text|json] [--output FILE] [--stats-interval S] [--buffer-size KIB]',
    summary:
      "capture a domain controller's traffic live with tcpdump and print identity alerts as they are raised",
    minArgs: 0,
    options: [
      {
        name: 'interface',
        type: 'string',
        short: 'i',
        help: "the network interface to capture on (tcpdump -i), one that sees the DC's traffic",
      },
      {
        name: 'filter',
        type: 'string',
        help: "a BPF filter instead of the default one for a DC's ports (tcpdump filter syntax)",
      },
      {
        name: 'dc-address',
        type: 'string',
        multiple: true,
        help: "the DC's address (repeatable), so the default filter keeps its dynamic RPC ports 49152-65535; default the interface's own addresses",
      },
      {
        name: 'identity-config',
        type: 'string',
        help: 'a YAML file for the identity detectors: honeytokens, sensitive groups and accounts, domain controllers, levels, test mode, exclusions',
      },
      {
        name: 'format',
        type: 'string',
        short: 'f',
        values: captureFormats,
        default: 'text',
        help: 'text: one line per alert; json: one JSON object per alert and line',
      },
      { name: 'output', type: 'string', short: 'o', help: 'write alerts to this file instead of stdout' },
      {
        name: 'stats-interval',
        type: 'string',
        default: '10',
        help: 'seconds between packet and drop counters on stderr; 0 for only at the end',
      },
      {
        name: 'buffer-size',
        type: 'string',
        help: "tcpdump's kernel buffer in KiB (tcpdump -B); larger means fewer drops in bursts",
      },
    ],
    details: [
      'Runs tcpdump -i IFACE -w - -U --immediate-mode -n -s 262144 [-B KIB] FILTER (tcpdump',
      'must be installed; capturing needs root, or CAP_NET_RAW and CAP_NET_ADMIN on tcpdump).',
      "The default filter keeps a DC's service ports (DNS 53, Kerberos 88, RPC endpoint mapper",
      '135, NetBIOS 137-139, LDAP 389, SMB 445, kpasswd 464, LDAPS 636, global catalog 3268 and',
      "3269), later IP fragments, and TCP to or from the DC's dynamic RPC ports, where DRSUAPI",
      "(DCSync) and Netlogon listen; those need the DC's address: --dc-address, or the",
      "interface's own addresses when palisade runs on the DC. The filter and the interface are",
      'checked before the capture starts. Alerts are printed as they are raised; counters go to',
      "stderr every --stats-interval seconds: frames and bytes read, and tcpdump's packets",
      'captured, received by filter, dropped by kernel and dropped by interface. SIGINT (Ctrl-C)',
      'or SIGTERM stops the capture, finishes open exchanges and prints the final counters.',
      'Exit codes: 0 stopped; 1 tcpdump could not run or failed while capturing, or its output',
      '  was damaged; 2 bad command line, filter, interface or configuration file.',
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
  /** `palisade up`: the instance could not start (port in use, unreadable keys or stores). */
  startFailed: 1,
} as const;
