// 2026 Suspicious service creation: a suspicious binary path on a domain controller alerts once
// per installation, naming service, binary and installer; ordinary services, and services on
// other devices above the Low level, do not; exclusions apply.
import { describe, expect, it } from 'vitest';
import { serviceCreationDetector } from '../src/identity/service-creation-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([serviceCreationDetector], { domainControllers: ['DC01'], ...config });
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const service = (seconds: number, name: string, binary: string, device = 'DC01.corp.local', eventId = 7045) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Service creation', AccountName: 'mallory', AccountDomain: 'CORP', DeviceName: device },
    { EventId: eventId, ServiceName: name, ServiceFileName: binary, ServiceAccount: 'LocalSystem' },
  );

describe('suspicious service creation (2026)', () => {
  it('alerts once on a service running a shell on a DC (7045 and 4697 of one install)', () => {
    const smbexec =
      '%COMSPEC% /Q /c echo cd ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %TEMP%\\execute.bat & %COMSPEC% /Q /c %TEMP%\\execute.bat';
    const alerts = run([
      service(0, 'BTOBTO', smbexec),
      service(1, 'BTOBTO', smbexec, 'DC01.corp.local', 4697),
    ]);
    expect(alerts.map((a) => [a.externalId, a.title, a.level, a.description, a.entities])).toEqual([
      [
        2026,
        'Suspicious service creation',
        'medium',
        `CORP\\mallory created the service BTOBTO on DC01.corp.local running as LocalSystem: ${smbexec} — it runs a command shell; runs from an administrative share; loops back to itself over SMB; echoes a command into a file or pipe (smbexec); runs from a temporary or user-writable folder; has the name of a remote-execution tool`,
        { accounts: ['CORP\\mallory'], devices: ['DC01.corp.local'], ips: [] },
      ],
    ]);
  });

  it('recognises encoded PowerShell, script hosts, named pipes and random psexec binaries', () => {
    const reasons = (binary: string, name = 'svc') =>
      run([service(0, name, binary)]).map((a) => a.description?.split(' — it ')[1]);
    expect(reasons('powershell.exe -nop -w hidden -enc SQBFAFgA')).toEqual([
      'runs PowerShell; passes hidden or encoded command-line flags',
    ]);
    expect(reasons('rundll32.exe C:\\Users\\Public\\a.dll,Start')).toEqual([
      'runs a script host or system binary used to launch payloads; runs from a temporary or user-writable folder',
    ]);
    expect(reasons('cmd.exe /c echo x > \\\\.\\pipe\\evil')).toEqual([
      'runs a command shell; writes to a named pipe (token impersonation); echoes a command into a file or pipe (smbexec)',
    ]);
    expect(reasons('%systemroot%\\KbWqXzPa.exe', 'kBwQ')).toEqual([
      'runs a randomly named binary in the Windows folder (Impacket or Metasploit psexec)',
    ]);
    expect(reasons('C:\\Windows\\PSEXESVC.exe', 'PSEXESVC')).toEqual([
      'runs a randomly named binary in the Windows folder (Impacket or Metasploit psexec); has the name of a remote-execution tool',
    ]);
  });

  it('leaves a service-creation request seen on the wire to 2019', () => {
    const [r, e] = service(
      0,
      'BTOBTO',
      '%COMSPEC% /Q /c echo cd ^> \\\\127.0.0.1\\C$\\__output',
      'DC01.corp.local',
    );
    const network = {
      ...r,
      values: {
        ...r.values,
        AdditionalFields: { ...(r.values.AdditionalFields as object), Source: 'network' },
      },
    };
    expect(run([[network, e]], { testMode: true })).toEqual([]);
    expect(run([[r, e]], { testMode: true })).toHaveLength(1);
  });

  it('stays quiet on ordinary services, and on other devices unless at the Low level', () => {
    expect(
      run([
        service(0, 'Sense', '"C:\\Program Files\\Windows Defender Advanced Threat Protection\\MsSense.exe"'),
      ]),
    ).toEqual([]);
    expect(run([service(0, 'x', 'cmd.exe /c whoami', 'WS01')])).toEqual([]);
    expect(run([service(0, 'x', 'cmd.exe /c whoami', 'WS01')], { testMode: true })).toHaveLength(1);
  });

  it('does not alert for an excluded device or account', () => {
    const rows = [service(0, 'x', 'cmd.exe /c whoami')];
    expect(run(rows, { exclusions: { devices: ['DC01'] } })).toEqual([]);
    expect(
      run(rows, { detectorExclusions: { 'identity/suspicious-service': { accounts: ['CORP\\mallory'] } } }),
    ).toEqual([]);
  });
});
