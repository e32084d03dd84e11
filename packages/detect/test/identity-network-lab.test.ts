// The recorded lab run's packet captures (../shared/corpus/testbed-samples/*.pcap) scanned
// with the identity detectors in test mode: the attacks that only packets show — LDAP
// reconnaissance, Kerberoasting, AS-REP roasting, DCSync — and the password spray raise their
// alerts inside their windows in
// attacks/markers.txt, naming the attacker 10.99.0.20, and nothing fires in the setup window.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Alert, compileRuleSet, identityDetectors, scanFiles } from '../src/index.ts';

const lab = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples');
const pcap = join(lab, 'testbed-default.pcap');
const missing = existsSync(pcap) ? undefined : `lab capture not found at ${pcap}`;
if (missing) {
  if (process.env.CI) throw new Error(`network lab test cannot run in CI: ${missing}`);
  console.log(`skipping network lab test: ${missing}`);
}

const ATTACKER = '10.99.0.20';

function windows(): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const line of readFileSync(join(lab, 'attacks/markers.txt'), 'utf8').trim().split('\n')) {
    const [time, name, edge] = line.split(' ') as [string, string, string];
    const w = out.get(name) ?? [0, 0];
    w[edge === 'start' ? 0 : 1] = Date.parse(time);
    out.set(name, w);
  }
  return out;
}

describe.skipIf(missing !== undefined)('identity detectors on the lab capture', () => {
  it('detects each attack inside its marker window, naming the attacker and the accounts', async () => {
    const { alerts } = await scanFiles([pcap], compileRuleSet([], { name: 'none', entries: [] }), {
      identity: { detectors: identityDetectors, config: { testMode: true } },
    });
    const marks = windows();
    const windowOf = (a: Alert) =>
      [...marks].find(
        ([, [start, end]]) => Date.parse(a.timestamp) >= start && Date.parse(a.timestamp) <= end,
      )?.[0];
    expect(alerts.map((a) => [a.externalId, windowOf(a), a.entities?.ips, a.entities?.accounts])).toEqual([
      // ldapsearch as alice: users, groups, SPNs, admins, Domain Admins members, no-pre-auth
      // accounts, computers, trusts.
      [2038, 'ldap_recon', [ATTACKER], ['corp.lab.test\\alice']],
      [2210, 'ldap_recon', [ATTACKER], ['corp.lab.test\\alice']],
      // rpcclient and samrdump.py as alice over \PIPE\samr: users, groups, Domain Admins members.
      [2021, 'samr_enum', [ATTACKER], ['CORP\\alice']],
      // GetUserSPNs.py as alice: a service ticket for svc_sql, offered no AES type, RC4 returned.
      [2410, 'kerberoast', [ATTACKER], ['CORP.LAB.TEST\\alice']],
      // GetNPUsers.py: asrep_user's TGT issued without pre-authentication, RC4.
      [2412, 'asrep_roast', [ATTACKER], ['CORP.LAB.TEST\\asrep_user']],
      // kinit and smbclient with wrong passwords for three accounts, then LDAP simple binds.
      [
        2023,
        'password_spray',
        [ATTACKER],
        ['CORP.LAB.TEST\\administrator', 'CORP.LAB.TEST\\alice', 'CORP.LAB.TEST\\bob'],
      ],
      [2004, 'password_spray', [ATTACKER], ['corp.lab.test\\alice']],
      // secretsdump.py -just-dc: DsGetNCChanges over DRSUAPI as administrator.
      [2006, 'dcsync', [ATTACKER], ['CORP.LAB.TEST\\administrator']],
    ]);
    expect(alerts.find((a) => a.externalId === 2410)?.targets?.accounts).toContain('svc_sql');
  });

  it('finds the SAM-R enumeration at the Medium level, and a honeytoken named in it', async () => {
    const { alerts } = await scanFiles([pcap], compileRuleSet([], { name: 'none', entries: [] }), {
      identity: {
        detectors: identityDetectors.filter((d) => d.meta.externalId === 2021 || d.meta.externalId === 2439),
        config: { levels: { 'identity/samr-recon': 'medium' }, honeytokenAccounts: ['Administrator'] },
      },
    });
    const marks = windows();
    const samr = marks.get('samr_enum') as [number, number];
    // Users then groups enumerated (two facets, the Medium threshold); Administrator opened by RID 500.
    expect(alerts.map((a) => [a.externalId, a.description])).toEqual([
      [2021, expect.stringMatching(/^10\.99\.0\.20 \(as CORP\\alice\) queried users, groups over SAM-R/)],
      [2439, expect.stringMatching(/asked about honeytoken Administrator over SAM-R \(QueryUser\)/)],
    ]);
    for (const a of alerts) {
      expect(Date.parse(a.timestamp)).toBeGreaterThanOrEqual(samr[0]);
      expect(Date.parse(a.timestamp)).toBeLessThanOrEqual(samr[1]);
    }
  });
});
