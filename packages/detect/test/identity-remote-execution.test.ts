// Remote code execution attempt (2019) from packets: services created or repointed over SVCCTL
// and jobs or tasks scheduled over ATSVC and ITaskSchedulerService, in the real captures of
// services.py, a sealed RCreateServiceW and atexec.py's calls; hand-written rows for what must
// stay silent: a 7045 without a source, a domain controller, an excluded source, a repeat.
import { describe, expect, it } from 'vitest';
import { IdentityEngine, identityDetectors } from '../src/index.ts';
import { row } from './identity-rows.ts';
import { scanRpcFixtures } from './identity-rpc-fixtures.ts';

const serviceRow = (seconds: number, values: Record<string, unknown>, name = 'XuRB') =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'Service creation',
      Protocol: 'Scmr',
      AccountName: 'mallory',
      AccountDomain: 'CORP',
      ...values,
    },
    {
      Source: 'network',
      ServiceName: name,
      ServiceFileName: '%systemroot%\\XuRBabcd.exe',
      Method: 'RCreateServiceW',
    },
  );

function alerts(
  config: ConstructorParameters<typeof IdentityEngine>[1],
  rows: ReturnType<typeof serviceRow>[],
) {
  const engine = new IdentityEngine(
    identityDetectors.filter((d) => d.meta.externalId === 2019),
    config,
  );
  return rows.flatMap(([r, e]) => engine.push(r, e)).map((a) => a.description);
}

const wire = { IPAddress: '10.0.0.66', DestinationIPAddress: '10.0.0.5' };

describe('Remote code execution attempt (2019)', () => {
  it('alerts on each service created or repointed and each task scheduled, sealed or not', async () => {
    const found = await scanRpcFixtures(['svcctl-remote-service.pcap', 'tsch-atsvc-task.pcap'], [2019]);
    const by = '10.99.0.20 (as CORP\\administrator) tried to run code on 10.99.0.10 by';
    expect(
      found.map((a) => [a.externalId, a.level, a.entities?.ips, a.entities?.accounts, a.description]),
    ).toEqual(
      [
        `${by} creating the service PalisadeSvc over SCMR (RCreateServiceW): C:\\Windows\\Temp\\payload.exe -k`,
        `${by} changing the command of a service over SCMR (RChangeServiceConfigW): cmd.exe /c calc.exe`,
        `${by} creating a service over SCMR (RCreateServiceW), sealed: the command is not readable`,
        `${by} scheduling a job over TSCH (NetrJobAdd): cmd.exe /c net user backdoor P@ss1 /add`,
        `${by} scheduling the task \\vHqkBtPw over TSCH (SchRpcRegisterTask): cmd.exe /C whoami > %windir%\\Temp\\vHqkBtPw.tmp 2>&1`,
      ].map((d) => [2019, 'medium', ['10.99.0.20'], ['CORP\\administrator'], d]),
    );
    expect(found[0]?.targets?.devices).toEqual(['10.99.0.10']);
  });

  it('reads the same calls in NDR64', async () => {
    const found = await scanRpcFixtures(['ndr64.pcap'], [2019]);
    expect(found.map((a) => a.description?.replace(/^.* by /, ''))).toEqual([
      'creating the service Ndr64Svc over SCMR (RCreateServiceW): C:\\Windows\\Temp\\ndr64.exe',
      'scheduling a job over TSCH (NetrJobAdd): cmd.exe /c whoami',
      'scheduling the task \\Ndr64Task over TSCH (SchRpcRegisterTask): cmd.exe /C whoami > %windir%\\Temp\\vHqkBtPw.tmp 2>&1',
    ]);
  });

  it('is silent for a service installed without a source on the wire (7045), and for a repeat', () => {
    expect(alerts({}, [serviceRow(0, { DeviceName: 'DC01' })])).toEqual([]);
    expect(alerts({}, [serviceRow(0, wire), serviceRow(60, wire), serviceRow(120, wire, 'Other')])).toEqual([
      '10.0.0.66 (as CORP\\mallory) tried to run code on 10.0.0.5 by creating the service XuRB over SCMR (RCreateServiceW): %systemroot%\\XuRBabcd.exe',
      '10.0.0.66 (as CORP\\mallory) tried to run code on 10.0.0.5 by creating the service Other over SCMR (RCreateServiceW): %systemroot%\\XuRBabcd.exe',
    ]);
  });

  it('is silent for domain controllers and excluded sources', () => {
    expect(alerts({ domainControllers: ['10.0.0.66'] }, [serviceRow(0, wire)])).toEqual([]);
    expect(alerts({ exclusions: { ips: ['10.0.0.0/24'] } }, [serviceRow(0, wire)])).toEqual([]);
    expect(
      alerts({ detectorExclusions: { 'identity/remote-execution': { accounts: ['CORP\\mallory'] } } }, [
        serviceRow(0, wire),
      ]),
    ).toEqual([]);
  });
});
