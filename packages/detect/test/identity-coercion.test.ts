// Coercion over RPC from packets: EFSRPC (2416) — PetitPotam-style calls over \PIPE\lsarpc,
// \PIPE\efsrpc and TCP in a real capture — and DFSCoerce (2426) — NetrDfsAddStdRoot and
// NetrDfsRemoveStdRoot against a Samba DC; hand-written rows for what is not coercion (a local
// path, the server itself, another DC), sealed calls (Medium) and exclusions.
import { describe, expect, it } from 'vitest';
import { IdentityEngine, identityDetectors } from '../src/index.ts';
import { row } from './identity-rows.ts';
import { scanRpcFixtures } from './identity-rpc-fixtures.ts';

const efs = (seconds: number, extra: Record<string, unknown>, ip = '10.0.0.66') =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'EFSRPC call',
      Protocol: 'Efsr',
      IPAddress: ip,
      DestinationIPAddress: '10.0.0.5',
      DestinationDeviceName: 'DC01',
      AccountName: 'mallory',
      AccountDomain: 'CORP',
    },
    { Source: 'network', Method: 'EfsRpcOpenFileRaw', Transport: '\\PIPE\\lsarpc', ...extra },
  );

const unc = (host: string) => ({ FileNames: [`\\\\${host}\\share\\x`], Listener: host });

function alerts(config: ConstructorParameters<typeof IdentityEngine>[1], rows: ReturnType<typeof efs>[]) {
  const engine = new IdentityEngine(
    identityDetectors.filter((d) => d.meta.externalId === 2416 || d.meta.externalId === 2426),
    config,
  );
  return rows.flatMap(([r, e]) => engine.push(r, e)).map((a) => [a.externalId, a.level, a.description]);
}

describe('Suspicious network connection over EFSRPC (2416)', () => {
  it('alerts once on the capture’s eighteen coercing calls, naming the listener', async () => {
    const found = await scanRpcFixtures(['efsrpc-coerce.pcap'], [2416, 2426]);
    expect(
      found.map((a) => [a.externalId, a.level, a.entities?.ips, a.targets?.devices, a.description]),
    ).toEqual([
      [
        2416,
        'high',
        ['10.99.0.20'],
        ['10.99.0.10', '10.99.0.20'],
        '10.99.0.20 (as CORP\\administrator) called EfsRpcOpenFileRaw on 10.99.0.10 over \\PIPE\\lsarpc with \\\\10.99.0.20\\share\\settings.ini, which makes it authenticate to 10.99.0.20',
      ],
    ]);
  });

  it('is silent for local paths and for paths on the server itself or another DC', () => {
    expect(
      alerts({ domainControllers: ['DC02'] }, [
        efs(0, { FileNames: ['C:\\Users\\Public\\report.docx'] }),
        efs(1, unc('10.0.0.5')),
        efs(2, unc('dc01.corp.local')),
        efs(3, unc('DC02')),
      ]),
    ).toEqual([]);
  });

  it('alerts at Medium severity on a sealed or unreadable call, whose path is not known', () => {
    const problem = 'FileName: expected a terminating NUL, found another character at 0x3e';
    expect(
      alerts({}, [efs(0, { StubEncrypted: true }), efs(1, { StubProblem: problem }, '10.0.0.67')]),
    ).toEqual([
      [
        2416,
        'medium',
        '10.0.0.66 (as CORP\\mallory) called EfsRpcOpenFileRaw on DC01 over \\PIPE\\lsarpc; the call was sealed, so the host it points to is not known',
      ],
      [
        2416,
        'medium',
        `10.0.0.67 (as CORP\\mallory) called EfsRpcOpenFileRaw on DC01 over \\PIPE\\lsarpc; its arguments do not read (${problem}), so the host it points to is not known`,
      ],
    ]);
  });

  it('is silent for excluded sources and domain controllers', () => {
    expect(alerts({ exclusions: { ips: ['10.0.0.66'] } }, [efs(0, unc('10.0.0.66'))])).toEqual([]);
    expect(alerts({ domainControllers: ['10.0.0.66'] }, [efs(0, unc('10.0.0.66'))])).toEqual([]);
  });
});

describe('coercion in NDR64', () => {
  it('raises both alerts from the NDR64 capture', async () => {
    const found = await scanRpcFixtures(['ndr64.pcap'], [2416, 2426]);
    expect(found.map((a) => [a.externalId, a.level, a.targets?.devices])).toEqual([
      [2426, 'high', ['10.99.0.10', '10.99.0.20']],
      [2416, 'high', ['10.99.0.10', '10.99.0.20']],
    ]);
  });
});

describe('Suspected DFSCoerce attack (2426)', () => {
  const dfs = (seconds: number, serverName: string, method = 'NetrDfsAddStdRoot') => {
    const [r, e] = efs(seconds, {});
    const values = { ...r.values, ActionType: 'DFSNM call', Protocol: 'Dfsnm' };
    const extra = {
      Source: 'network',
      Method: method,
      Transport: '\\PIPE\\netdfs',
      ServerName: serverName,
      RootShare: 'test',
    };
    return [{ ...r, values: { ...values, AdditionalFields: extra } }, e] as ReturnType<typeof efs>;
  };

  it('alerts once on the capture’s NetrDfsAddStdRoot and NetrDfsRemoveStdRoot', async () => {
    const found = await scanRpcFixtures(['dfsnm-coerce.pcap'], [2416, 2426]);
    expect(
      found.map((a) => [a.externalId, a.level, a.entities?.ips, a.entities?.accounts, a.description]),
    ).toEqual([
      [
        2426,
        'high',
        ['10.99.0.20'],
        ['CORP\\administrator'],
        '10.99.0.20 (as CORP\\administrator) called NetrDfsAddStdRoot on 10.99.0.10 over \\PIPE\\netdfs for the root 10.99.0.20\\test, which makes it authenticate to 10.99.0.20',
      ],
    ]);
  });

  it('is silent when the root is on the DC itself, and for excluded accounts', () => {
    expect(alerts({}, [dfs(0, 'DC01'), dfs(1, '10.0.0.5', 'NetrDfsRemoveStdRoot')])).toEqual([]);
    expect(
      alerts({ detectorExclusions: { 'identity/dfscoerce': { accounts: ['mallory'] } } }, [dfs(0, 'relay')]),
    ).toEqual([]);
    expect(alerts({}, [dfs(0, 'relay')]).map((a) => a[0])).toEqual([2426]);
  });
});
