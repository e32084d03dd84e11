// What the identity detectors know about the directory: domain controllers, sensitive groups
// (with nesting), honeytokens and sensitive accounts, from configuration and from what the
// event stream shows (the computers that answer Kerberos and NTLM validation are DCs; group
// membership changes build the nesting graph).
import type { TableRow } from '@palisade/schema';
import { DirectoryAction } from '@palisade/schema';
import { extra, text } from './detector.ts';

/** The groups Defender for Identity treats as sensitive, with their well-known SIDs or RIDs. */
export const builtInSensitiveGroups: readonly {
  readonly name: string;
  readonly sid?: string;
  readonly rid?: number;
}[] = [
  { name: 'Administrators', sid: 'S-1-5-32-544' },
  { name: 'Power Users', sid: 'S-1-5-32-547' },
  { name: 'Account Operators', sid: 'S-1-5-32-548' },
  { name: 'Server Operators', sid: 'S-1-5-32-549' },
  { name: 'Print Operators', sid: 'S-1-5-32-550' },
  { name: 'Backup Operators', sid: 'S-1-5-32-551' },
  { name: 'Replicator', sid: 'S-1-5-32-552' },
  { name: 'Network Configuration Operators', sid: 'S-1-5-32-556' },
  { name: 'Incoming Forest Trust Builders', sid: 'S-1-5-32-557' },
  { name: 'Domain Admins', rid: 512 },
  { name: 'Domain Controllers', rid: 516 },
  { name: 'Schema Admins', rid: 518 },
  { name: 'Enterprise Admins', rid: 519 },
  { name: 'Group Policy Creator Owners', rid: 520 },
  { name: 'Read-only Domain Controllers', rid: 521 },
  { name: 'Enterprise Read-only Domain Controllers', rid: 498 },
  { name: 'Microsoft Exchange Servers' },
];

/** The identity part of the configuration file. */
export interface IdentityConfig {
  /** Extra sensitive groups, accounts (names or SIDs). */
  readonly sensitiveGroups?: readonly string[];
  readonly sensitiveAccounts?: readonly string[];
  /** Honeytoken accounts and devices. */
  readonly honeytokenAccounts?: readonly string[];
  readonly honeytokenDevices?: readonly string[];
  /** Domain controllers (names or IP addresses) beyond those the events reveal. */
  readonly domainControllers?: readonly string[];
  /** DNS servers that are not domain controllers (secondaries allowed to transfer zones). */
  readonly dnsServers?: readonly string[];
}

/** A name as compared: lower case, no `DOMAIN\`, no `@realm`, no trailing `$`, no DNS suffix for hosts. */
export function canonicalAccount(name: string): string {
  let n = name.trim().toLowerCase();
  const slash = n.lastIndexOf('\\');
  if (slash >= 0) n = n.slice(slash + 1);
  const at = n.indexOf('@');
  if (at >= 0) n = n.slice(0, at);
  return n;
}

export function canonicalHost(name: string): string {
  let n = canonicalAccount(name);
  if (n.endsWith('$')) n = n.slice(0, -1);
  const dot = n.indexOf('.');
  if (dot > 0 && !/^\d+\.\d+\.\d+\.\d+$/.test(n)) n = n.slice(0, dot);
  return n;
}

/** The first RDN value of a distinguished name: `CN=Domain Admins,CN=Users,…` → `Domain Admins`. */
export function rdnValue(dn: string): string {
  const m = /^[A-Za-z]+=((?:\\,|[^,])*)/.exec(dn.trim());
  return m ? (m[1] as string).replaceAll('\\,', ',') : dn;
}

/** Knowledge shared by all detectors of one engine. */
export class DirectoryKnowledge {
  private readonly dcs = new Set<string>();
  private readonly dnsServers: Set<string>;
  private readonly honeyAccounts: Set<string>;
  private readonly honeyDevices: Set<string>;
  private readonly sensitiveAccounts: Set<string>;
  private readonly sensitiveGroupKeys: Set<string>;
  // group key → groups it is a member of (for nesting).
  private readonly parents = new Map<string, Set<string>>();

  constructor(config: IdentityConfig = {}) {
    for (const dc of config.domainControllers ?? []) this.dcs.add(canonicalHost(dc));
    this.dnsServers = new Set((config.dnsServers ?? []).map(canonicalHost));
    this.honeyAccounts = new Set((config.honeytokenAccounts ?? []).map(canonicalAccount));
    this.honeyDevices = new Set((config.honeytokenDevices ?? []).map(canonicalHost));
    this.sensitiveAccounts = new Set((config.sensitiveAccounts ?? []).map(canonicalAccount));
    this.sensitiveGroupKeys = new Set([
      ...builtInSensitiveGroups.map((g) => g.name.toLowerCase()),
      ...builtInSensitiveGroups.flatMap((g) => (g.sid ? [g.sid.toLowerCase()] : [])),
      ...(config.sensitiveGroups ?? []).map((g) => canonicalAccount(g)),
    ]);
  }

  /** Learns from a row: which hosts are DCs, and group nesting. Called for every row. */
  observe(row: TableRow): void {
    if (row.table === 'IdentityLogonEvents' && text(row, 'LogonType') === 'Credentials Validation') {
      // Kerberos AS and NTLM credential validation are answered by domain controllers.
      const dc = text(row, 'DestinationDeviceName');
      if (dc) this.dcs.add(canonicalHost(dc));
      // Rows made from packets know the DC's address too.
      const ip = text(row, 'DestinationIPAddress');
      if (ip && extra(row, 'Source') === 'network') this.dcs.add(ip);
    }
    // Directory-service access and change auditing (4662, 5136, 5137, 5141), domain computer
    // account management (4741–4743), SID history (4765, 4766) and DSRM (4794) are logged by DCs.
    if (row.table === 'IdentityDirectoryEvents' && dcOnlyEvents.has(extra(row, 'EventId'))) {
      const dc = text(row, 'DeviceName');
      if (dc) this.dcs.add(canonicalHost(dc));
    }
    if (
      row.table === 'IdentityDirectoryEvents' &&
      text(row, 'ActionType') === DirectoryAction.groupMembership
    ) {
      const member = extra(row, 'MemberName') || extra(row, 'MemberSid');
      const group = extra(row, 'TO.GROUP') || extra(row, 'FROM.GROUP') || extra(row, 'GroupName');
      if (!member || !group) return;
      const memberKeys = [rdnValue(member).toLowerCase(), extra(row, 'MemberSid').toLowerCase()].filter(
        Boolean,
      );
      const groupKeys = [group.toLowerCase(), extra(row, 'GroupSid').toLowerCase()].filter(Boolean);
      const added = extra(row, 'Action') !== 'Removed';
      for (const m of memberKeys) {
        let set = this.parents.get(m);
        if (!set) this.parents.set(m, (set = new Set()));
        for (const g of groupKeys) added ? set.add(g) : set.delete(g);
      }
    }
  }

  isDomainController(nameOrIp: string): boolean {
    return nameOrIp !== '' && this.dcs.has(canonicalHost(nameOrIp));
  }

  /** Domain controllers are DNS servers in Active Directory; others come from the configuration. */
  isDnsServer(nameOrIp: string): boolean {
    return (
      nameOrIp !== '' && (this.isDomainController(nameOrIp) || this.dnsServers.has(canonicalHost(nameOrIp)))
    );
  }

  isHoneytokenAccount(name: string): boolean {
    return name !== '' && this.honeyAccounts.has(canonicalAccount(name));
  }

  isHoneytokenDevice(name: string): boolean {
    return name !== '' && this.honeyDevices.has(canonicalHost(name));
  }

  isSensitiveAccount(name: string): boolean {
    return name !== '' && this.sensitiveAccounts.has(canonicalAccount(name));
  }

  /**
   * Whether a group (by name or SID) is sensitive: built in (by name, SID or well-known RID),
   * configured, or nested — directly or transitively — in a sensitive group.
   */
  isSensitiveGroup(nameOrSid: string, sid = ''): boolean {
    const seen = new Set<string>();
    const visit = (key: string): boolean => {
      if (key === '' || seen.has(key)) return false;
      seen.add(key);
      if (this.sensitiveGroupKeys.has(key) || hasSensitiveRid(key)) return true;
      for (const parent of this.parents.get(key) ?? []) if (visit(parent)) return true;
      return false;
    };
    return visit(nameOrSid.toLowerCase()) || visit(sid.toLowerCase());
  }

  /** How many entries it holds. */
  get size(): number {
    let n = this.dcs.size;
    for (const s of this.parents.values()) n += s.size;
    return n;
  }
}

const dcOnlyEvents = new Set([
  '4662',
  '5136',
  '5137',
  '5141',
  '4741',
  '4742',
  '4743',
  '4765',
  '4766',
  '4794',
]);

function hasSensitiveRid(key: string): boolean {
  const m = /^s-1-5-21-\d+-\d+-\d+-(\d+)$/.exec(key);
  return m !== null && builtInSensitiveGroups.some((g) => g.rid === Number(m[1]));
}
