// What the identity lab (../shared/testbed) must raise: per attack in attacks/markers.txt, the
// alerts its packets and Samba's audit logs give, and one check that scans a run and compares
// the whole alert list. The recorded run and fresh runs are held to the same tables.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  type Alert,
  compileRuleSet,
  type IdentityEngineConfig,
  identityDetectors,
  scanFiles,
} from '../src/index.ts';

/** Every lab command, the setup's samba-tool included, runs in the attacker's namespace. */
export const LAB_ATTACKER = '10.99.0.20';

/**
 * Stands for the run's domain SID in the tables: every provision makes a new one, and Samba
 * names the domain's Administrator by SID only.
 */
export const DOMAIN_SID = '<domain-sid>';
const ADMIN = `${DOMAIN_SID}-500`;

/**
 * The lab's two ways to run: SMB as negotiated (3.1.1, which Impacket encrypts), and capped at
 * 2.1 (`TB_SMB_MAX_PROTOCOL=SMB2_10`) so that SMB payloads are readable in the capture.
 */
export const labVariants = ['default', 'smb21'] as const;
export type LabVariant = (typeof labVariants)[number];

/** An attack's start and end, ms since the epoch. */
export type LabWindow = readonly [start: number, end: number];

/** One run's output folder, read. */
export interface LabRun {
  readonly pcap: string;
  readonly audit: string;
  readonly variant: LabVariant;
  /** Attack name → its window, in the order the attacks ran (markers.txt is written as they run). */
  readonly windows: ReadonlyMap<string, LabWindow>;
  /** `S-1-5-21-x-y-z`, which `DOMAIN_SID` stands for. */
  readonly domainSid: string;
}

/** One alert an attack raises. */
export interface LabAlertExpectation {
  /** The attack's name in markers.txt: the alert's time falls inside its window. */
  readonly attack: string;
  readonly externalId: number;
  /** `entities.accounts`, spelled as the evidence spells them. */
  readonly accounts: readonly string[];
  /** `targets.accounts`; absent where the detector names no targets. */
  readonly targets?: readonly string[];
  /** The whole description, where a check is about it. */
  readonly description?: string;
  /** Raised only in this variant; absent: in every run. */
  readonly only?: LabVariant;
}

/** One scan of a run: which evidence, which detectors and settings, and every alert expected. */
export interface LabScenario {
  readonly evidence: 'pcap' | 'audit';
  /** External ids of the detectors to run; all of them when absent. */
  readonly detectors?: readonly number[];
  readonly config: IdentityEngineConfig;
  /**
   * Within one attack in time order. The script runs each attack's steps in a fixed order, and
   * alerts with the same timestamp are ordered by level and title, so the order is stable.
   */
  readonly alerts: readonly LabAlertExpectation[];
}

/** The scans the lab tests make, by name. */
export const labScenarios = {
  // Test mode over the capture: the attacks only packets show, and the spray.
  capture: {
    evidence: 'pcap',
    config: { testMode: true },
    alerts: [
      // ldapsearch as alice: users, groups, SPNs, admins, Domain Admins members, no-pre-auth
      // accounts, computers, trusts.
      { attack: 'ldap_recon', externalId: 2038, accounts: ['corp.lab.test\\alice'] },
      { attack: 'ldap_recon', externalId: 2210, accounts: ['corp.lab.test\\alice'] },
      // rpcclient and samrdump.py as alice over \PIPE\samr: users, groups, Domain Admins members.
      { attack: 'samr_enum', externalId: 2021, accounts: ['CORP\\alice'], targets: [] },
      // GetUserSPNs.py -k as alice: her password turned into her NT hash for an RC4-only TGT
      // request, after AES pre-authentications earlier; then a service ticket for svc_sql,
      // offered no AES type, RC4 returned (and the LDAP ticket its -k search needed).
      { attack: 'kerberoast', externalId: 2008, accounts: ['CORP.LAB.TEST\\alice'] },
      {
        attack: 'kerberoast',
        externalId: 2410,
        accounts: ['CORP.LAB.TEST\\alice'],
        targets: ['ldap/DC1.corp.lab.test', 'svc_sql'],
      },
      // GetNPUsers.py: asrep_user's TGT issued without pre-authentication, RC4.
      {
        attack: 'asrep_roast',
        externalId: 2412,
        accounts: ['CORP.LAB.TEST\\asrep_user'],
        targets: ['CORP.LAB.TEST\\asrep_user'],
      },
      // kinit with wrong passwords for three accounts, smbclient's ten NTLM session setups as
      // bob, then LDAP simple binds as alice.
      {
        attack: 'password_spray',
        externalId: 2023,
        accounts: ['CORP.LAB.TEST\\administrator', 'CORP.LAB.TEST\\alice', 'CORP.LAB.TEST\\bob'],
      },
      { attack: 'password_spray', externalId: 2033, accounts: ['CORP\\bob'] },
      { attack: 'password_spray', externalId: 2004, accounts: ['corp.lab.test\\alice'] },
      // secretsdump.py -just-dc: DsGetNCChanges over DRSUAPI as administrator.
      { attack: 'dcsync', externalId: 2006, accounts: ['CORP.LAB.TEST\\administrator'] },
      // psexec.py and smbexec.py as administrator: CreateServiceW over \PIPE\svcctl. Readable only
      // when SMB is capped at 2.1; Impacket encrypts SMB 3.1.1, leaving one NTLM session setup.
      { attack: 'psexec', externalId: 2019, accounts: ['CORP.LAB.TEST\\administrator'], only: 'smb21' },
      { attack: 'smbexec', externalId: 2019, accounts: ['CORP.LAB.TEST\\administrator'], only: 'smb21' },
    ],
  },
  // SAM-R reconnaissance at the Medium level, with the Administrator as a honeytoken: users
  // then groups enumerated (two facets, the Medium threshold), Administrator opened by RID 500.
  samrMedium: {
    evidence: 'pcap',
    detectors: [2021, 2439],
    config: { levels: { 'identity/samr-recon': 'medium' }, honeytokenAccounts: ['Administrator'] },
    alerts: [
      {
        attack: 'samr_enum',
        externalId: 2021,
        accounts: ['CORP\\alice'],
        targets: [],
        description: `${LAB_ATTACKER} (as CORP\\alice) queried users, groups over SAM-R within 10 minutes`,
      },
      // rpcclient's queryuser 0x1f4.
      {
        attack: 'samr_enum',
        externalId: 2439,
        accounts: ['CORP\\alice'],
        targets: ['Administrator'],
        description: `${LAB_ATTACKER} (as CORP\\alice) asked about honeytoken Administrator over SAM-R (QueryUser)`,
      },
      // samrdump.py's QueryUser: Impacket encrypts SMB 3, so only the SMB 2.1 capture shows it.
      {
        attack: 'samr_enum',
        externalId: 2439,
        accounts: ['CORP.LAB.TEST\\alice'],
        targets: ['Administrator'],
        description: `${LAB_ATTACKER} (as CORP.LAB.TEST\\alice) asked about honeytoken Administrator over SAM-R (QueryUser)`,
        only: 'smb21',
      },
    ],
  },
  // Test mode over the audit logs: the attacks they can show, and the setup's group change.
  audit: {
    evidence: 'audit',
    config: { testMode: true },
    alerts: [
      // samba-tool adds alice to Domain Admins as Administrator (known to Samba by SID only).
      {
        attack: 'setup',
        externalId: 2024,
        accounts: [ADMIN],
        targets: ['alice'],
        description: `${ADMIN} added alice to the sensitive group Domain Admins`,
      },
      // GetNPUsers.py asks for asrep_user's TGT without pre-authentication.
      {
        attack: 'asrep_roast',
        externalId: 2412,
        accounts: ['CORP\\asrep_user'],
        targets: ['CORP\\asrep_user'],
      },
      // kinit and smbclient against three accounts, then LDAP simple binds.
      {
        attack: 'password_spray',
        externalId: 2023,
        accounts: ['CORP\\Administrator', 'CORP\\alice', 'CORP\\bob'],
      },
      { attack: 'password_spray', externalId: 2004, accounts: ['CORP\\alice'] },
    ],
  },
  // The audit logs with bob as a honeytoken, honeytoken detectors only.
  auditHoneytoken: {
    evidence: 'audit',
    detectors: [2427, 2428, 2014],
    config: { testMode: true, honeytokenAccounts: ['bob'] },
    alerts: [
      // bob is created (joined to Domain Users, password set), then reset again later.
      { attack: 'setup', externalId: 2428, accounts: [ADMIN], targets: ['bob'] },
      { attack: 'setup', externalId: 2427, accounts: [ADMIN], targets: ['bob'] },
      // bob's failed logons.
      { attack: 'password_spray', externalId: 2014, accounts: ['CORP\\bob'], targets: [] },
    ],
  },
  // The default High level: the spray (3 accounts) is under the threshold of 10, sensitive-group
  // additions learn for four weeks first, and one AS-REP request whose ticket type Samba does
  // not log is under the threshold of 3 accounts.
  auditDefault: { evidence: 'audit', config: {}, alerts: [] },
} satisfies Record<string, LabScenario>;

/** Reads a run's output folder: `pcapFile`, `audit/` and `attacks/markers.txt`. */
export function readLabRun(dir: string, variant: LabVariant, pcapFile = 'testbed.pcap'): LabRun {
  return {
    pcap: join(dir, pcapFile),
    audit: join(dir, 'audit'),
    variant,
    windows: readMarkers(join(dir, 'attacks/markers.txt')),
    domainSid: readDomainSid(join(dir, 'audit/auth_json.jsonl')),
  };
}

/** markers.txt: `<UTC time> <attack> start|end`, one line each. */
export function readMarkers(file: string): Map<string, LabWindow> {
  const out = new Map<string, [number, number]>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [time, name, edge] = line.split(' ') as [string, string, string];
    const w = out.get(name) ?? [0, 0];
    w[edge === 'start' ? 0 : 1] = Date.parse(time);
    out.set(name, w);
  }
  return out;
}

/** The domain SID, from a logon of the domain's Administrator (RID 500) in the auth audit log. */
function readDomainSid(file: string): string {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"becameSid"')) continue;
    const record = JSON.parse(line) as { Authentication?: { becameSid?: unknown } };
    const sid = record.Authentication?.becameSid;
    const domain = typeof sid === 'string' ? /^(S-1-5-21-\d+-\d+-\d+)-500$/.exec(sid)?.[1] : undefined;
    if (domain) return domain;
  }
  throw new Error(`expected a logon whose becameSid ends in -500 in ${file}, found none`);
}

/** The attack whose window holds the alert's time, if any. */
export function windowOf(alert: Alert, windows: ReadonlyMap<string, LabWindow>): string | undefined {
  const t = Date.parse(alert.timestamp);
  return [...windows].find(([, [start, end]]) => t >= start && t <= end)?.[0];
}

/** What the checks compare of an alert. */
interface LabAlert {
  readonly attack: string | undefined;
  readonly externalId: number | undefined;
  readonly ips: readonly string[] | undefined;
  readonly accounts: readonly string[] | undefined;
  readonly targets: readonly string[] | undefined;
  readonly description: unknown;
}

/** Scans a run as the scenario says and expects exactly the scenario's alerts, nothing else. */
export async function expectLabAlerts(run: LabRun, scenario: LabScenario): Promise<void> {
  const ids = scenario.detectors;
  const detectors = ids
    ? identityDetectors.filter((d) => ids.includes(d.meta.externalId))
    : identityDetectors;
  const { alerts } = await scanFiles(
    [scenario.evidence === 'pcap' ? run.pcap : run.audit],
    compileRuleSet([], { name: 'none', entries: [] }),
    { identity: { detectors, config: scenario.config } },
  );
  const seen = alerts.map(
    (a): LabAlert => ({
      attack: windowOf(a, run.windows),
      externalId: a.externalId,
      ips: a.entities?.ips,
      accounts: a.entities?.accounts,
      targets: a.targets?.accounts,
      description: a.description,
    }),
  );
  expect(seen).toEqual(expectedAlerts(run, scenario));
}

function expectedAlerts(run: LabRun, scenario: LabScenario): LabAlert[] {
  for (const e of scenario.alerts)
    if (!run.windows.has(e.attack)) throw new Error(`expected an attack named ${e.attack} in the markers`);
  const fill = (s: string) => s.replaceAll(DOMAIN_SID, run.domainSid);
  return [...run.windows.keys()].flatMap((attack) =>
    scenario.alerts
      .filter((e) => e.attack === attack && (e.only === undefined || e.only === run.variant))
      .map(
        (e): LabAlert => ({
          attack,
          externalId: e.externalId,
          ips: [LAB_ATTACKER],
          accounts: e.accounts.map(fill),
          targets: e.targets?.map(fill),
          description: e.description === undefined ? expect.any(String) : fill(e.description),
        }),
      ),
  );
}
