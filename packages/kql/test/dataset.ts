// The small fixed dataset of the semantics conformance tests. Every expected result in
// semantics.test.ts is worked out by hand from these rows and KQL's documented semantics.
import type { HuntingDb } from './hunting-db.ts';

/**
 * DeviceProcessEvents, one row per ProcessId:
 *
 * | ProcessId | Timestamp (UTC)     | DeviceId | DeviceName | FileName       | FolderPath                                   | ProcessCommandLine   | AccountName | FileSize |
 * | 11        | 2024-05-01 10:05    | d1       | ws1.corp   | cmd.exe        | C:\Windows\System32\cmd.exe                  | cmd.exe /c whoami    | alice       | 100      |
 * | 12        | 2024-05-01 10:35    | d1       | ws1.corp   | powershell.exe | C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe | powershell -enc AAAA | alice | 200 |
 * | 21        | 2024-05-01 11:10    | d2       | srv2.corp  | mycmd.exe      | C:\Temp\mycmd.exe                            | mycmd.exe --cmd-line | bob         | 300      |
 * | 22        | 2024-05-01 12:00    | d2       | srv2.corp  | CMD.EXE        | C:\WINDOWS\system32\CMD.EXE                  | CMD.EXE /C dir       | bob         | (null)   |
 * | 31        | 2024-05-02 00:00    | d3       | ws3.corp   | notepad.exe    | C:\Windows\notepad.exe                       | (empty)              | (missing)   | 50       |
 * | 32        | 2024-05-02 01:00    | d3       | ws3.corp   | cmd.exe        | D:\tools\cmd.exe.bak\run.exe                 | run.exe              | carol       | 60       |
 *
 * AdditionalFields (a string column here) holds JSON on 11 (`{"a":1,"tags":["x","y"]}`) and 12 (`{"a":2,"tags":[]}`).
 */
export const processRows = [
  {
    ProcessId: 11n,
    Timestamp: '2024-05-01 10:05:00',
    DeviceId: 'd1',
    DeviceName: 'ws1.corp',
    FileName: 'cmd.exe',
    FolderPath: 'C:\\Windows\\System32\\cmd.exe',
    ProcessCommandLine: 'cmd.exe /c whoami',
    AccountName: 'alice',
    FileSize: 100n,
    AdditionalFields: '{"a":1,"tags":["x","y"]}',
  },
  {
    ProcessId: 12n,
    Timestamp: '2024-05-01 10:35:00',
    DeviceId: 'd1',
    DeviceName: 'ws1.corp',
    FileName: 'powershell.exe',
    FolderPath: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    ProcessCommandLine: 'powershell -enc AAAA',
    AccountName: 'alice',
    FileSize: 200n,
    AdditionalFields: '{"a":2,"tags":[]}',
  },
  {
    ProcessId: 21n,
    Timestamp: '2024-05-01 11:10:00',
    DeviceId: 'd2',
    DeviceName: 'srv2.corp',
    FileName: 'mycmd.exe',
    FolderPath: 'C:\\Temp\\mycmd.exe',
    ProcessCommandLine: 'mycmd.exe --cmd-line',
    AccountName: 'bob',
    FileSize: 300n,
  },
  {
    ProcessId: 22n,
    Timestamp: '2024-05-01 12:00:00',
    DeviceId: 'd2',
    DeviceName: 'srv2.corp',
    FileName: 'CMD.EXE',
    FolderPath: 'C:\\WINDOWS\\system32\\CMD.EXE',
    ProcessCommandLine: 'CMD.EXE /C dir',
    AccountName: 'bob',
    FileSize: null,
  },
  {
    ProcessId: 31n,
    Timestamp: '2024-05-02 00:00:00',
    DeviceId: 'd3',
    DeviceName: 'ws3.corp',
    FileName: 'notepad.exe',
    FolderPath: 'C:\\Windows\\notepad.exe',
    ProcessCommandLine: '',
    FileSize: 50n,
  },
  {
    ProcessId: 32n,
    Timestamp: '2024-05-02 01:00:00',
    DeviceId: 'd3',
    DeviceName: 'ws3.corp',
    FileName: 'cmd.exe',
    FolderPath: 'D:\\tools\\cmd.exe.bak\\run.exe',
    ProcessCommandLine: 'run.exe',
    AccountName: 'carol',
    FileSize: 60n,
  },
];

/** DeviceInfo: d1 twice (two OS versions), d2 once, d9 (no process rows) once. */
export const deviceRows = [
  { Timestamp: '2024-05-01 09:00:00', DeviceId: 'd1', DeviceName: 'ws1.corp', OSPlatform: 'Windows10' },
  { Timestamp: '2024-05-01 09:30:00', DeviceId: 'd1', DeviceName: 'ws1.corp', OSPlatform: 'Windows11' },
  {
    Timestamp: '2024-05-01 09:00:00',
    DeviceId: 'd2',
    DeviceName: 'srv2.corp',
    OSPlatform: 'WindowsServer2019',
  },
  { Timestamp: '2024-05-01 09:00:00', DeviceId: 'd9', DeviceName: 'x.corp', OSPlatform: 'Linux' },
];

/** IdentityLogonEvents: one row with a dynamic AdditionalFields. */
export const logonRows = [
  {
    Timestamp: '2024-05-01 08:00:00',
    AccountName: 'alice',
    DeviceName: 'dc1.corp',
    AdditionalFields: '{"Spns":["cifs/srv2","host/ws1"],"x":{"y":"z"},"k.v":1}',
  },
];

export async function loadDataset(db: HuntingDb): Promise<void> {
  await db.insert('DeviceProcessEvents', processRows);
  await db.insert('DeviceInfo', deviceRows);
  await db.insert('IdentityLogonEvents', logonRows);
}
