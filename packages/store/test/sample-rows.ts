// Rows for the event store conformance suite: real rows normalised from the lab's Samba audit logs
// and capture (../shared/corpus/testbed-samples, read when present), and one hand-made row per table
// with every column set to a value a sensor could send, edge values included.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ColumnType,
  normaliseCapture,
  type RowValue,
  readSambaAuditLines,
  type TableName,
  type TableRow,
  tableNames,
  tables,
} from '@palisade/schema';

const samples = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples');

/** Why the corpus rows cannot be read, or undefined when they can; throws under CI. */
export function corpusMissing(): string | undefined {
  if (existsSync(join(samples, 'audit')) && existsSync(join(samples, 'testbed-default.pcap')))
    return undefined;
  const reason = `corpus not found at ${samples}`;
  if (process.env.CI) throw new Error(`${reason} (CI must have ../shared)`);
  console.log(`skipping corpus rows: ${reason}`);
  return reason;
}

/** Every row the Samba audit logs and the lab capture normalise to. */
export function corpusRows(): TableRow[] {
  const rows: TableRow[] = [];
  const audit = join(samples, 'audit');
  for (const name of readdirSync(audit).sort()) {
    rows.push(
      ...readSambaAuditLines(readFileSync(join(audit, name), 'utf8'), name, 'dc1.corp.lab.test').rows,
    );
  }
  rows.push(...normaliseCapture(readFileSync(join(samples, 'testbed-default.pcap'))).rows);
  return rows;
}

/** Realistic values by column name, used wherever a table has the column. */
const byName: Readonly<Record<string, RowValue>> = {
  ActionType: 'ProcessCreated',
  AccountName: 'alice',
  AccountDomain: 'CORP',
  AccountSid: 'S-1-5-21-3623811015-3361044348-30300820-1013',
  AccountUpn: 'alice@corp.lab.test',
  AccountObjectId: '5b0a1c3e-3a1b-4f7e-9a57-1f0b9d6f2c11',
  DeviceName: 'ws01.corp.lab.test',
  DeviceId: 'b8f3c2d1e0a94f7b8c6d5e4f3a2b1c0d9e8f7a6b',
  FileName: 'powershell.exe',
  FolderPath: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
  ProcessCommandLine: 'powershell.exe -NoProfile -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA',
  InitiatingProcessFileName: 'cmd.exe',
  InitiatingProcessCommandLine: 'cmd.exe /c "C:\\Users\\Public\\run me.bat"',
  SHA256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  SHA1: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
  MD5: '098f6bcd4621d373cade4e832627b4f6',
  IPAddress: '10.99.0.20',
  RemoteIP: '2001:db8::1',
  LocalIP: '10.99.0.21',
  RemoteUrl: 'https://example.test/path?q=1&r=é',
  Protocol: 'Kerberos',
  LogonType: 'Credentials Validation',
  ReportId: 'dc1.corp.lab.test:Security:887114',
  Title: 'Suspected Kerberos SPN exposure',
  Severity: 'High',
  Category: 'CredentialAccess',
  ServiceSource: 'Microsoft Defender for Identity',
  DetectionSource: 'Microsoft Defender for Identity',
  AttackTechniques: '["Kerberoasting (T1558.003)"]',
  Categories: '["CredentialAccess"]',
  AlertId: 'pa-2003-0001',
  EntityType: 'User',
  EvidenceRole: 'Impacted',
  RegistryKey: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System',
  RegistryValueName: 'EnableLUA',
  RegistryValueData: '0',
  SoftwareName: 'chrome',
  SoftwareVendor: 'google',
  SoftwareVersion: '120.0.6099.110',
  CveId: 'CVE-2023-7024',
  OSPlatform: 'Windows11',
};

/** A value of each type with an edge in it: micro-precision times, 2^53−1, negatives, false, nesting. */
function valueFor(type: ColumnType, column: string, n: number): RowValue {
  switch (type) {
    case 'string':
      return byName[column] ?? `${column} ✓ "quoted" \\ back\nline ${n}`;
    case 'int':
      return column.endsWith('Port') ? 49152 + n : -(2 ** 31) + n;
    case 'long':
      return column === 'FileSize' ? 4_812_800 : Number.MAX_SAFE_INTEGER - n;
    case 'real':
      return 0.1 + n;
    case 'bool':
      return n % 2 === 1;
    case 'datetime':
      return `2026-11-21T22:27:${String(10 + n).padStart(2, '0')}.${String(123456 + n)}Z`;
    case 'dynamic':
      return { EventId: 4769, Tags: ['a', 'ü', null], Nested: { ok: true, ratio: 0.5, big: 2 ** 40 }, n };
  }
}

/** One row per table with every column set. */
export function handRows(): TableRow[] {
  return tableNames.map((table: TableName, n) => {
    const values: Record<string, RowValue> = {};
    for (const column of tables[table].columns) values[column.name] = valueFor(column.type, column.name, n);
    return { table, values };
  });
}

/** IdentityLogonEvents rows like the lab's, with `n` distinct accounts, ports and times. */
export function logonRows(
  count: number,
  prefix: string,
  start = Date.parse('2026-11-21T00:00:00Z'),
): TableRow[] {
  const rows: TableRow[] = [];
  for (let i = 0; i < count; i++) {
    rows.push({
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: `${new Date(start + i * 37).toISOString().slice(0, 19)}.${String(i % 1_000_000).padStart(6, '0')}Z`,
        ActionType: i % 7 === 0 ? 'LogonFailed' : 'LogonSuccess',
        LogonType: 'Credentials Validation',
        Protocol: i % 3 === 0 ? 'Ntlm' : 'Kerberos',
        FailureReason: i % 7 === 0 ? 'WrongPassword' : undefined,
        AccountName: `user${i % 3000}`,
        AccountDomain: 'CORP',
        AccountSid: `S-1-5-21-3623811015-3361044348-30300820-${1000 + (i % 3000)}`,
        DeviceName: `WS${String(i % 400).padStart(3, '0')}`,
        IPAddress: `10.99.${(i >> 8) % 256}.${i % 256}`,
        Port: 1024 + (i % 60000),
        DestinationDeviceName: 'dc1',
        DestinationIPAddress: '10.99.0.10',
        DestinationPort: 88,
        ReportId: `${prefix}/${i}`,
        AdditionalFields: {
          EventId: 4768,
          KerberosRequest: 'AS',
          Status: '0x0',
          TicketEncryptionType: '0x12',
        },
      },
    });
  }
  return rows;
}

/** The rows of crash-writer batch `i`: logon rows plus a raw row per ten of them, in two tables. */
export function crashBatch(i: number, rowsPerBatch: number): TableRow[] {
  const id = `crash-${i}`;
  const rows: TableRow[] = logonRows(rowsPerBatch, id);
  for (let k = 0; k < rowsPerBatch; k += 10) {
    rows.push({
      table: 'PalisadeRawEvents',
      values: {
        Timestamp: '2026-11-21T00:00:00Z',
        Source: 'evtx',
        EventId: 4768,
        ReportId: `${id}/${k}`,
        Data: { k },
      },
    });
  }
  return rows;
}
