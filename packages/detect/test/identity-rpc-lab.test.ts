// The lab's recorded captures (../shared/corpus/testbed-samples) under every identity detector in
// test mode, for what the remote-execution rows add. psexec.py and smbexec.py ran in both runs.
// In the SMB 2.1 capture their RCreateServiceW requests are readable and raise Remote code
// execution attempt (2019). In the default capture SMB 3.1.1 is encrypted by Impacket, so
// their windows show only the NTLM session setups: 2019 is not claimed there.
// attacks/markers.txt belongs to the default run (the SMB 2.1 capture starts at 22:27:25.6, after
// that run ended at 22:27:18); the SMB 2.1 run's markers were not kept. The two runs ran the
// same script, so the SMB 2.1 capture is held to the default capture's alerts plus what
// readable SMB adds, and its 2019 alerts to the SVCCTL frames tshark reads
// (packages/schema/fixtures/network-rpc/smb21-corpus.tshark.tsv).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { normaliseCapture } from '@palisade/schema';
import { describe, expect, it } from 'vitest';
import { type Alert, compileRuleSet, identityDetectors, scanFiles } from '../src/index.ts';
import { type LabWindow, readMarkers } from './lab-expectations.ts';

const lab = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples');
const missing = existsSync(join(lab, 'testbed-smb21-cleartext.pcap'))
  ? undefined
  : `lab captures not found in ${lab}`;
if (missing) {
  if (process.env.CI) throw new Error(`lab RPC test cannot run in CI: ${missing}`);
  console.log(`skipping lab RPC test: ${missing}`);
}

async function testModeAlerts(pcap: string): Promise<Alert[]> {
  const { alerts } = await scanFiles([join(lab, pcap)], compileRuleSet([], { name: 'none', entries: [] }), {
    identity: { detectors: identityDetectors, config: { testMode: true } },
  });
  return alerts;
}

const within = (time: string, [start, end]: LabWindow) =>
  Date.parse(time) >= start && Date.parse(time) <= end;

const who = (a: Alert) => JSON.stringify([a.externalId, a.entities?.ips, a.entities?.accounts]);

/** The frames tshark reads RCreateServiceW (SVCCTL opnum 12) requests in. */
function createServiceFrames(): number[] {
  const golden = resolve(import.meta.dirname, '../../schema/fixtures/network-rpc/smb21-corpus.tshark.tsv');
  return readFileSync(golden, 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((c) => c[3] === '0' && c[8] === '12')
    .map((c) => Number(c[0]));
}

describe.skipIf(missing !== undefined)('remote execution in the lab recordings', () => {
  it('adds 2019 for psexec.py and smbexec.py to the SMB 2.1 capture, and nothing else of its own', async () => {
    const cleartext = await testModeAlerts('testbed-smb21-cleartext.pcap');
    const encrypted = await testModeAlerts('testbed-default.pcap');
    const unmatched = encrypted.map(who);
    const added = cleartext.filter((a) => {
      const i = unmatched.indexOf(who(a));
      if (i < 0) return true;
      unmatched.splice(i, 1);
      return false;
    });
    expect(unmatched).toEqual([]);
    const by =
      '10.99.0.20 (as CORP.LAB.TEST\\administrator) tried to run code on 10.99.0.10 by creating the service';
    expect(
      added.map((a) => [a.externalId, a.entities?.ips, a.entities?.accounts, a.events[0]?.recordId]),
    ).toEqual([
      // psexec.py: a random service for the random .exe it uploaded to the sysvol share.
      [2019, ['10.99.0.20'], ['CORP.LAB.TEST\\administrator'], createServiceFrames()[0]],
      // smbexec.py: its BTOBTO service echoing each command into a batch file.
      [2019, ['10.99.0.20'], ['CORP.LAB.TEST\\administrator'], createServiceFrames()[1]],
    ]);
    // Suspicious service creation (2026) reads services installed on a DC from its logs; a
    // request on the wire is 2019's alone.
    expect(added.map((a) => a.description)).toEqual([
      `${by} zIYW over SCMR (RCreateServiceW): \\\\DC1\\sysvol\\QexPUTEN.exe`,
      `${by} BTOBTO over SCMR (RCreateServiceW): %COMSPEC% /Q /c echo cd  ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %TEMP%\\execute.bat & %COMSPEC% /Q /c %TEMP%\\execute.bat & del %TEMP%\\execute.bat`,
    ]);
    // Both come after every alert of the attacks that ran before psexec.py (the last is DCSync).
    const last = cleartext.filter((a) => !added.includes(a)).at(-1);
    expect(last?.externalId).toBe(2006);
    for (const a of added) expect(Date.parse(a.timestamp)).toBeGreaterThan(Date.parse(last?.timestamp ?? ''));
  });

  it('claims no 2019 in the default capture: psexec.py and smbexec.py show only their session setups', async () => {
    const windows = readMarkers(join(lab, 'attacks/markers.txt'));
    const alerts = await testModeAlerts('testbed-default.pcap');
    const execution = [windows.get('psexec'), windows.get('smbexec')] as LabWindow[];
    expect(alerts.filter((a) => execution.some((w) => within(a.timestamp, w)))).toEqual([]);
    expect(alerts.map((a) => a.externalId)).not.toContain(2019);
    const { rows } = normaliseCapture(readFileSync(join(lab, 'testbed-default.pcap')));
    const inWindow = (name: string) =>
      rows
        .filter((r) => within(r.values.Timestamp as string, windows.get(name) ?? [0, 0]))
        .map((r) => [r.table, r.values.ActionType, r.values.Protocol, r.values.AccountName]);
    const setup = ['IdentityLogonEvents', 'LogonSuccess', 'Ntlm', 'administrator'];
    expect(inWindow('psexec')).toEqual([setup]);
    expect(inWindow('smbexec')).toEqual([setup]);
  });
});
