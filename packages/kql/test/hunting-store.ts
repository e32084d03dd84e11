// A real event store for running the hunting corpus: a DuckDbEventStore (packages/store) filled
// through appendMany with a few synthetic rows per table (every column set, dynamic columns holding
// JSON objects and arrays) and the scanned attack corpora (EVTX attack samples, the testbed's Samba
// audit logs and packet captures, normalised as the scan normalises them), then opened read-only.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { readEvtxChunks } from '@palisade/evtx';
import {
  type ColumnType,
  normaliseCapture,
  normaliseSecurityDeviceEvent,
  normaliseSysmonEvent,
  normaliseWindowsEvent,
  type RowValue,
  readSambaAuditLines,
  type TableName,
  type TableRow,
  tableNames,
  tables,
} from '@palisade/schema';
import { DuckDbEventStore } from '@palisade/store';

/** The synthetic rows' day; queries are compiled with `now` a few hours later. */
export const syntheticDay = '2024-05-31';

/** Values for columns whose name says what they hold, one per synthetic row. */
const byName: Readonly<Record<string, readonly string[]>> = {
  DeviceName: ['ws1.corp.local', 'srv2.corp.local', 'dc1.corp.local'],
  DeviceId: ['d1a2b3', 'd4e5f6', 'd7c8b9'],
  AccountName: ['alice', 'bob', 'administrator'],
  AccountDomain: ['corp', 'corp', 'corp'],
  AccountUpn: ['alice@corp.local', 'bob@corp.local', 'administrator@corp.local'],
  AccountSid: ['S-1-5-21-1-2-3-1104', 'S-1-5-21-1-2-3-1105', 'S-1-5-21-1-2-3-500'],
  FileName: ['powershell.exe', 'rundll32.exe', 'ntds.dit'],
  FolderPath: [
    'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    'C:\\Windows\\System32\\rundll32.exe',
    'C:\\Windows\\NTDS\\ntds.dit',
  ],
  ProcessCommandLine: [
    'powershell.exe -nop -enc SQBFAFgA',
    'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full',
    'ntdsutil "ac i ntds" ifm "create full c:\\temp" q q',
  ],
  RemoteIP: ['10.0.0.5', '203.0.113.7', '192.168.1.10'],
  LocalIP: ['10.0.0.2', '10.0.0.3', '10.0.0.4'],
  IPAddress: ['10.0.0.5', '203.0.113.7', '192.168.1.10'],
  RemoteUrl: ['login.example.com', 'evil.example.net', 'https://files.example.org/a.zip'],
  Url: ['https://evil.example.net/login', 'http://files.example.org/a.zip', 'https://www.example.com/'],
  SHA1: [
    '9858d5cb2a6614be3c48e33911bf9f7978b441bf',
    'e152f7ce2d3a4349ac583580c2caf8f72fac16ba',
    'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  ],
  SHA256: [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3',
    'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
  ],
  MD5: [
    'd41d8cd98f00b204e9800998ecf8427e',
    '900150983cd24fb0d6963f7d28e17f72',
    'c4ca4238a0b923820dcc509a6f75849b',
  ],
  ActionType: ['ProcessCreated', 'ConnectionSuccess', 'LogonSuccess'],
  RecipientEmailAddress: ['alice@corp.local', 'bob@corp.local', 'carol@corp.local'],
  SenderFromAddress: ['billing@example.net', 'news@example.com', 'bob@corp.local'],
  SenderFromDomain: ['example.net', 'example.com', 'corp.local'],
  OSPlatform: ['Windows10', 'WindowsServer2019', 'Linux'],
  Protocol: ['Tcp', 'Kerberos', 'Ntlm'],
  CveId: ['CVE-2021-44228', 'CVE-2021-34527', 'CVE-2020-1472'],
  LoggedOnUsers: [
    '[{"UserName":"alice","DomainName":"CORP","Sid":"S-1-5-21-1-2-3-1104"}]',
    '[{"UserName":"bob","DomainName":"CORP","Sid":"S-1-5-21-1-2-3-1105"}]',
    '[]',
  ],
  IPAddresses: [
    '[{"IPAddress":"10.0.0.2","SubnetPrefix":24,"AddressType":"Private"}]',
    '[{"IPAddress":"10.0.0.3","SubnetPrefix":24,"AddressType":"Private"}]',
    '[]',
  ],
};

const dynamicValues: readonly RowValue[] = [
  { Count: 3, Name: 'alpha', IsAudit: 'true', Tags: ['x', 'y'], Nested: { Key: 'v1' } },
  ['10.0.0.5', 'alpha', { Key: 'v2' }],
  { Count: 0, Name: '', Tags: [] },
];

function valueFor(column: string, type: ColumnType, n: number): RowValue {
  const named = byName[column];
  switch (type) {
    case 'string':
      if (named) return named[n % named.length] as string;
      if (column.endsWith('Time') || column.endsWith('Date')) return `${syntheticDay}T0${n}:00:00Z`;
      return `${column}-${n + 1}`;
    case 'int':
      return column.endsWith('Port') ? ([445, 443, 88][n % 3] as number) : n + 1;
    case 'long':
      return 1000 * (n + 1) + n;
    case 'real':
      return 1.5 * (n + 1);
    case 'bool':
      return n % 2 === 0;
    case 'datetime':
      return `${syntheticDay}T${String(8 + 4 * n).padStart(2, '0')}:15:30.000Z`;
    case 'dynamic':
      return dynamicValues[n % dynamicValues.length] as RowValue;
  }
}

/** Three rows per table, every column set. */
export function syntheticRows(): TableRow[] {
  const rows: TableRow[] = [];
  for (const table of tableNames) {
    for (let n = 0; n < 3; n++) {
      const values: Record<string, RowValue> = {};
      for (const c of tables[table].columns) values[c.name] = valueFor(c.name, c.type, n);
      rows.push({ table, values });
    }
  }
  return rows;
}

function filesUnder(root: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && pattern.test(entry.name)) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** Rows of the attack corpora under `corpusRoot` (../shared/corpus), by table. */
export async function* corpusRows(corpusRoot: string): AsyncGenerator<TableRow[]> {
  for (const file of filesUnder(join(corpusRoot, 'evtx-attack-samples'), /\.evtx$/i)) {
    const rows: TableRow[] = [];
    try {
      for await (const chunk of readEvtxChunks(file, { onDiagnostic: () => {} })) {
        for (const event of chunk) {
          rows.push(
            ...normaliseWindowsEvent(event, 'evtx'),
            ...normaliseSysmonEvent(event),
            ...normaliseSecurityDeviceEvent(event),
          );
        }
      }
    } catch {
      // A file the reader cannot open whole still gives the rows read before the damage.
    }
    yield rows;
  }
  const testbed = join(corpusRoot, 'testbed-samples');
  for (const file of filesUnder(join(testbed, 'audit'), /\.jsonl$/i)) {
    yield readSambaAuditLines(readFileSync(file, 'utf8'), file).rows;
  }
  for (const file of filesUnder(testbed, /\.pcap(ng)?$/i)) yield normaliseCapture(readFileSync(file)).rows;
}

export interface HuntingStore {
  /** A read-only connection to the store's file. */
  readonly connection: DuckDBConnection;
  /** Rows stored, by table. */
  readonly rows: Readonly<Partial<Record<TableName, number>>>;
  close(): void;
}

/** Fills a DuckDbEventStore in a temporary folder, closes it, and opens its file read-only. */
export async function openHuntingStore(corpusRoot: string): Promise<HuntingStore> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-kql-corpus-'));
  const file = join(dir, 'events.duckdb');
  const store = await DuckDbEventStore.open(file, { memoryLimit: '1GB', threads: 2 });
  const counts: Partial<Record<TableName, number>> = {};
  let batch = 0;
  const append = async (rows: readonly TableRow[]) => {
    for (let i = 0; i < rows.length; i += 20_000) {
      const slice = rows.slice(i, i + 20_000);
      await store.appendMany([{ batchId: `corpus-${++batch}`, rows: slice }]);
      for (const r of slice) counts[r.table] = (counts[r.table] ?? 0) + 1;
    }
  };
  try {
    await append(syntheticRows());
    for await (const rows of corpusRows(corpusRoot)) await append(rows);
  } finally {
    await store.close();
  }
  const instance = await DuckDBInstance.create(file, {
    access_mode: 'READ_ONLY',
    memory_limit: '1GB',
    threads: '2',
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    connection,
    rows: counts,
    close() {
      connection.disconnectSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
