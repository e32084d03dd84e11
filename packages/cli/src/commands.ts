// The palisade command's commands as data: names, arguments, options and help text. The
// dispatcher and the help printer both read this table.
// The configuration module alone: the sensor's bundle takes this table without the server.
import { defaultDataDir, defaultListen } from '@palisade/server/config';

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
export const huntFormats = ['table', 'csv', 'json'] as const;
export type HuntFormat = (typeof huntFormats)[number];
export const captureFormats = ['text', 'json'] as const;
export type CaptureFormat = (typeof captureFormats)[number];

const DIR_OPTION: OptionSpec = {
  name: 'dir',
  type: 'string',
  help: "the sensor's directory: credentials, configuration, buffer (default PALISADE_SENSOR_DIR, else /var/lib/palisade-sensor or C:\\ProgramData\\Palisade\\Sensor)",
};

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
      'private keys at rest), PALISADE_DUCKDB_MEMORY_LIMIT (default 1GB; hunting queries run',
      'within it), PALISADE_HUNTING_TIMEOUT (seconds a hunting query may run, default 600).',
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
  {
    path: ['hunt'],
    usage:
      "palisade hunt 'QUERY' | --file FILE [--format table|csv|json] [--max-rows N] [--data DIR | --server URL --client-id ID [--ca-file FILE]]",
    summary: 'run an advanced hunting query (KQL) over an instance directory or a running instance',
    minArgs: 0,
    options: [
      { name: 'file', type: 'string', help: 'read the query from this file instead of the argument' },
      {
        name: 'format',
        type: 'string',
        short: 'f',
        values: huntFormats,
        default: 'table',
        help: "table: aligned text and a row count; csv; json: MDE's { Schema, Results }",
      },
      {
        name: 'max-rows',
        type: 'string',
        default: '100000',
        help: "print at most this many rows (at most 100,000, MDE's API limit)",
      },
      {
        name: 'data',
        type: 'string',
        short: 'd',
        help: `an instance's data directory, read while the instance is stopped (default ${defaultDataDir})`,
      },
      {
        name: 'server',
        type: 'string',
        help: 'a running instance, e.g. https://palisade.corp.example.com:8443',
      },
      {
        name: 'client-id',
        type: 'string',
        help: 'an API client with AdvancedQuery.Read.All; its secret is read from PALISADE_CLIENT_SECRET',
      },
      {
        name: 'ca-file',
        type: 'string',
        help: "the instance CA's certificate (PEM) to trust; default the system's CAs",
      },
    ],
    details: [
      "The query is KQL as Defender's advanced hunting takes it, over Palisade's tables",
      '(DeviceProcessEvents, IdentityLogonEvents, AlertInfo, …). With --data (or neither option)',
      "the instance directory's event store is opened read-only, which DuckDB allows only while",
      'the instance is stopped; a running instance is asked through its API instead (--server,',
      '--client-id and PALISADE_CLIENT_SECRET), where results are limited to 100,000 rows and',
      "the instance's query timeout. Errors name the query's line and column on stderr.",
      'Environment: PALISADE_CLIENT_SECRET, PALISADE_DUCKDB_MEMORY_LIMIT (default 1GB, --data).',
      'Exit codes: 0 done; 1 the query failed, or the store or instance could not be reached;',
      '  2 bad command line.',
    ].join('\n'),
  },
  {
    path: ['sensor', 'register'],
    usage:
      'palisade sensor register --server URL [--access-key KEY] [--proxy URL] [--ca-file FILE] [--type endpoint|standalone] [--dir DIR]',
    summary: 'register this host with an instance using the access key, and keep its certificate',
    minArgs: 0,
    options: [
      { name: 'server', type: 'string', help: 'the instance, e.g. https://palisade.corp.example.com:8443' },
      {
        name: 'access-key',
        type: 'string',
        help: "the instance's access key (Settings › Sensors); PALISADE_ACCESS_KEY keeps it out of the process list",
      },
      {
        name: 'proxy',
        type: 'string',
        help: 'an HTTP proxy to reach the instance through (CONNECT); default HTTPS_PROXY',
      },
      {
        name: 'ca-file',
        type: 'string',
        help: "the instance CA's certificate (PEM) to trust for registration; default the system's CAs",
      },
      {
        name: 'type',
        type: 'string',
        values: ['endpoint', 'standalone'],
        help: 'what a host that is not a domain controller registers as (default endpoint); a DC is always a DC sensor',
      },
      DIR_OPTION,
    ],
    details: [
      'Makes a P-256 key on this host, sends a certificate request with the host facts (name,',
      'OS, version, domain, role) and the access key, and keeps the key, the certificate and the',
      "instance CA in the sensor's directory, readable by their owner only. The access key is",
      'not kept: every later call presents the certificate (mTLS). Whether the host is a domain',
      'controller is found by itself: the NTDS service on Windows, `server role = active',
      "directory domain controller` in Samba's smb.conf. Exit codes: 0 registered; 1 the",
      'instance refused or could not be reached (the reason is printed); 2 bad command line.',
    ].join('\n'),
  },
  {
    path: ['sensor', 'run'],
    usage: 'palisade sensor run [--dir DIR]',
    summary: 'run the sensor: read its sources, buffer on disk, deliver to the instance over mTLS',
    minArgs: 0,
    options: [DIR_OPTION],
    details: [
      "Runs the sources of the sensor's type (config.json in its directory adds or changes",
      'them; the instance can switch them off): EVTX files, Windows event channels, Samba audit',
      'logs, network capture, directory sync over LDAP, the Linux audit log and the host',
      "inventory. Every chunk read is written to the buffer in the sensor's directory before it",
      'is sent and deleted only after the instance acknowledged it, so nothing is lost when the',
      'instance is away or the sensor stops; each source resumes where its last buffered chunk',
      'ended. Progress is logged as JSON lines on stderr. SIGINT or SIGTERM stops it.',
    ].join('\n'),
  },
  {
    path: ['sensor', 'status'],
    usage: 'palisade sensor status [--dir DIR] [--json]',
    summary: 'show what the sensor is registered to, its sources, lag, buffer and last error',
    minArgs: 0,
    options: [DIR_OPTION, { name: 'json', type: 'boolean', help: 'print the status as JSON' }],
    details: "Reads the sensor's directory; the running sensor updates its status every 2 s.",
  },
  {
    path: ['sensor', 'doctor'],
    usage: 'palisade sensor doctor [--dir DIR] [--json]',
    summary: "check this host's prerequisites: server, certificate, clock, audit settings, capture",
    minArgs: 0,
    options: [DIR_OPTION, { name: 'json', type: 'boolean', help: 'print the checks as JSON' }],
    details: [
      'Checks the registration and its file permissions, the certificate, that the instance is',
      'reachable (directly or through the proxy) and accepts the certificate, the clock against',
      "the instance's, the audit settings (Samba's JSON audit log levels, or Windows' advanced",
      'audit policy on a DC), permission to capture, and teamed or bonded network adapters.',
      'Exit codes: 0 nothing failed (warnings may be printed); 1 a check failed.',
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
