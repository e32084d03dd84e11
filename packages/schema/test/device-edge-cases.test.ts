// Device normalisers on made-up records: the forms the corpora lack (QWORD and binary registry
// data, key renames, FileDeleteDetected), odd values and odd events. Inputs follow Sysmon's and
// Windows' documented field formats; expected values are worked out by hand.
import type { EvtxEvent } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { normaliseSecurityDeviceEvent } from '../src/normalise/security-device.ts';
import { normaliseSysmonEvent, sysmonChannel } from '../src/normalise/sysmon-device.ts';
import { checkRow, type TableRow } from '../src/rows.ts';

const r = String.raw;
const time = '2024-05-01T09:00:00.1234567Z';

function event(channel: string, eventId: number, eventData: Record<string, string> | undefined): EvtxEvent {
  return {
    recordId: 7,
    timestamp: time,
    writtenTime: time,
    system: { provider: 'test', eventId, channel, computer: 'WS1.corp.example', eventRecordId: 7 },
    ...(eventData ? { eventData } : {}),
  };
}

const base = { Timestamp: time, DeviceName: 'ws1.corp.example', ReportId: 7 };
const acting = { ProcessId: '42', Image: r`C:\Windows\regedit.exe` };
const actingColumns = {
  InitiatingProcessId: 42,
  InitiatingProcessFolderPath: r`C:\Windows\regedit.exe`,
  InitiatingProcessFileName: 'regedit.exe',
};

function one(rows: TableRow[]): TableRow {
  expect(rows).toHaveLength(1);
  const row = rows[0] as TableRow;
  expect(checkRow(row)).toEqual([]);
  const extra = row.values.AdditionalFields;
  return typeof extra === 'string'
    ? { ...row, values: { ...row.values, AdditionalFields: JSON.parse(extra) } }
    : row;
}

describe('Sysmon registry forms', () => {
  it('reads QWORD data as a decimal number', () => {
    const row = one(
      normaliseSysmonEvent(
        event(sysmonChannel, 13, {
          ...acting,
          EventType: 'SetValue',
          TargetObject: r`HKLM\SOFTWARE\Test\Big`,
          Details: 'QWORD (0x00000001-0x00000002)',
        }),
      ),
    );
    // 0x00000001_00000002 = 2^32 + 2
    expect(row.values).toEqual({
      ...base,
      ...actingColumns,
      ActionType: 'RegistryValueSet',
      RegistryKey: r`HKEY_LOCAL_MACHINE\SOFTWARE\Test`,
      RegistryValueName: 'Big',
      RegistryValueType: 'Qword',
      RegistryValueData: '4294967298',
    });
  });

  it('names binary data by its type only', () => {
    const row = one(
      normaliseSysmonEvent(
        event(sysmonChannel, 13, {
          ...acting,
          EventType: 'SetValue',
          TargetObject: r`HKU\S-1-5-21-1-2-3-1001\Software\Test\Blob`,
          Details: 'Binary Data',
        }),
      ),
    );
    expect(row.values).toMatchObject({
      RegistryKey: r`HKEY_USERS\S-1-5-21-1-2-3-1001\Software\Test`,
      RegistryValueName: 'Blob',
      RegistryValueType: 'Binary',
    });
    expect(row.values.RegistryValueData).toBeUndefined();
  });

  it('reads a key rename (event 14) as the previous and the new key', () => {
    const row = one(
      normaliseSysmonEvent(
        event(sysmonChannel, 14, {
          ...acting,
          EventType: 'RenameKey',
          TargetObject: r`HKCU\Software\Old`,
          NewName: r`HKCU\Software\New`,
        }),
      ),
    );
    expect(row.values).toEqual({
      ...base,
      ...actingColumns,
      ActionType: 'RegistryKeyRenamed',
      PreviousRegistryKey: r`HKEY_CURRENT_USER\Software\Old`,
      RegistryKey: r`HKEY_CURRENT_USER\Software\New`,
    });
  });

  it('makes no row for an EventType it does not know', () => {
    expect(normaliseSysmonEvent(event(sysmonChannel, 12, { ...acting, EventType: 'Frobnicate' }))).toEqual(
      [],
    );
  });
});

describe('Sysmon odd values', () => {
  it('maps FileDeleteDetected (26) like FileDelete', () => {
    const row = one(
      normaliseSysmonEvent(event(sysmonChannel, 26, { ...acting, TargetFilename: r`C:\x\y.txt` })),
    );
    expect(row.values).toEqual({
      ...base,
      ...actingColumns,
      ActionType: 'FileDeleted',
      FolderPath: r`C:\x\y.txt`,
      FileName: 'y.txt',
    });
  });

  it('keeps fields it cannot read in AdditionalFields', () => {
    const row = one(
      normaliseSysmonEvent(
        event(sysmonChannel, 1, {
          ProcessId: 'not a number',
          Hashes: 'garbage',
          UtcTime: 'yesterday',
          LogonId: '0x',
        }),
      ),
    );
    expect(row.values).toEqual({
      ...base,
      ActionType: 'ProcessCreated',
      AdditionalFields: { ProcessId: 'not a number', Hashes: 'garbage', UtcTime: 'yesterday', LogonId: '0x' },
    });
  });

  it('makes a bare row from an event without data, and none from other channels', () => {
    expect(one(normaliseSysmonEvent(event(sysmonChannel, 1, undefined))).values).toEqual({
      ...base,
      ActionType: 'ProcessCreated',
    });
    expect(normaliseSysmonEvent(event('Security', 1, {}))).toEqual([]);
    expect(normaliseSysmonEvent({} as EvtxEvent)).toEqual([]);
  });

  it('takes the lower port as the listener of an accepted loopback connection without port names', () => {
    const row = one(
      normaliseSysmonEvent(
        event(sysmonChannel, 3, {
          Protocol: 'tcp',
          Initiated: 'false',
          SourceIp: '127.0.0.1',
          SourceHostname: 'WS1',
          SourcePort: '49680',
          DestinationIp: '127.0.0.1',
          DestinationHostname: 'WS1',
          DestinationPort: '5985',
        }),
      ),
    );
    expect(row.values).toMatchObject({
      LocalPort: 5985,
      RemotePort: 49680,
      ActionType: 'InboundConnectionAccepted',
    });
  });
});

describe('Security odd values', () => {
  it('takes Status as the reason when SubStatus is 0x0', () => {
    const row = one(
      normaliseSecurityDeviceEvent(
        event('Security', 4625, {
          TargetUserName: 'bob',
          Status: '0xc0000234',
          SubStatus: '0x0',
          LogonType: '3',
        }),
      ),
    );
    // 0xC0000234 is STATUS_ACCOUNT_LOCKED_OUT (MS-ERREF §2.3.1).
    expect(row.values).toMatchObject({
      FailureReason: 'AccountLocked',
      LogonType: 'Network',
      AccountName: 'bob',
    });
  });

  it('makes no 5156 row without a known Direction, and none for events it does not map', () => {
    expect(normaliseSecurityDeviceEvent(event('Security', 5156, { Direction: '%%1' }))).toEqual([]);
    expect(normaliseSecurityDeviceEvent(event('Security', 4634, {}))).toEqual([]);
  });
});
