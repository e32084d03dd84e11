// 2027 and 2022 Suspected Golden Ticket usage, from the DC's Kerberos audit events. Defender for
// Identity reads the tickets on the wire: it matches each TGS-REQ's TGT to the AS exchange that
// issued it and checks the account against the directory. Logs show neither the TGT nor the
// directory, so both detections are approximations, tuned to stay quiet:
// - 2027 (nonexistent account): a service-ticket request (4769) or Kerberos logon (4624) by an
//   account the stream never showed to exist (no TGT issued, no NTLM validation, no password
//   failure, no directory event, not configured) *and* whose name or domain looks forged: the
//   domain mimikatz writes, a logon's domain blank or in DNS form where Windows writes the NetBIOS
//   name, a domain spelled unlike in other events of the same kind, or a random-looking name. A
//   merely unfamiliar domain is not enough: users of trusted domains present referral tickets
//   this DC never issued, and the directory's list of accounts is not in the logs.
// - 2022 (time anomaly): a TGT's age is approximated by the time since the KDC last issued
//   (4768) or renewed (4770) one for the account from that address. A service-ticket request
//   after the maximum TGT lifetime with no newer TGT alerts; so does one from an address that
//   never got a TGT, once the detector has watched a whole lifetime, if the account has no live
//   TGT elsewhere either (a roaming laptop keeps its ticket). Only accounts of realms this DC
//   issues TGTs for are judged, and every DC's log is needed: a TGT from an unmonitored DC looks
//   like none.
import { LogonAction, type TableRow } from '@palisade/schema';
import {
  accountLabel,
  extra,
  type IdentityDetector,
  type IdentityFinding,
  noFindings,
  text,
} from './detector.ts';
import { canonicalAccount, canonicalHost } from './directory.ts';
import { Cooldown, setRecent, unique } from './windows.ts';

const ACCOUNTS = 200_000;
const DOMAINS = 1_000;
/** Further use of one suspicious ticket by one account and source within this span is the same incident. */
const INCIDENT_MS = 60 * 60_000;

export const goldenTicketNonexistentAccountDetector: IdentityDetector = {
  meta: {
    id: 'identity/golden-ticket-nonexistent-account',
    externalId: 2027,
    tables: ['IdentityLogonEvents', 'IdentityDirectoryEvents'],
    title: 'Suspected Golden Ticket usage (nonexistent account)',
    severity: 'high',
    tactics: ['Persistence', 'Privilege Escalation', 'Lateral Movement'],
    techniques: ['T1558', 'T1068', 'T1210', 'T1558.001'],
    description:
      'A Kerberos ticket was used by an account the domain has never shown to exist, with a forged-looking name or domain: a golden ticket made for a made-up user.',
  },
  create({ directory }) {
    const known = new Map<string, number>();
    const spellings: Spellings = { logon: new Set(), ticket: new Set() };
    const incidents = new Cooldown(INCIDENT_MS);
    return {
      push(row, time, event): readonly IdentityFinding[] {
        learnAccounts(row, time, known, spellings);
        if (row.table !== 'IdentityLogonEvents' || text(row, 'ActionType') !== LogonAction.success)
          return noFindings;
        const kind = ticketUse(row);
        if (!kind) return noFindings;
        const name = text(row, 'AccountName');
        if (!name || known.has(canonicalAccount(name)) || name.toUpperCase() === 'ANONYMOUS LOGON')
          return noFindings;
        // A computer's own machine account logging on to that computer (WMI, services) uses a
        // ticket the KDC issued to it, whatever its spelling in the event.
        if (name.endsWith('$') && canonicalHost(name) === canonicalHost(text(row, 'DestinationDeviceName')))
          return noFindings;
        if (
          directory.isSensitiveAccount(name) ||
          directory.isHoneytokenAccount(name) ||
          directory.isDomainController(name)
        )
          return noFindings;
        const signs = forgerySigns(name, text(row, 'AccountDomain'), kind, spellings);
        if (signs.length === 0) return noFindings;
        const ip = text(row, 'IPAddress');
        if (!incidents.take(`${canonicalAccount(name)}|${ip}`, time)) return noFindings;
        const who = accountLabel(row);
        const service = text(row, 'TargetAccountDisplayName');
        const where = text(row, 'DestinationDeviceName');
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description:
              `${who} ${kind === 'logon' ? `logged on with Kerberos to ${where || 'a computer'}` : `requested a service ticket${service ? ` for ${service}` : ''}`}` +
              `${ip ? ` from ${ip}` : ''}, but the domain has never shown this account to exist, and ${signs.join('; ')}`,
            accounts: [who],
            devices: unique([text(row, 'DeviceName')]),
            ips: unique([ip]),
            events: [event],
            targets: { accounts: unique([service]), devices: unique([where]) },
          },
        ];
      },
      get size() {
        return known.size + spellings.logon.size + spellings.ticket.size + incidents.size;
      },
    };
  },
};

export const goldenTicketTimeAnomalyDetector: IdentityDetector = {
  meta: {
    id: 'identity/golden-ticket-time-anomaly',
    externalId: 2022,
    tables: ['IdentityLogonEvents'],
    title: 'Suspected Golden Ticket usage (time anomaly)',
    severity: 'high',
    tactics: ['Persistence', 'Privilege Escalation', 'Lateral Movement'],
    techniques: ['T1558', 'T1558.001'],
    description:
      'A service ticket was requested with a TGT older than the maximum lifetime for user tickets (or one the KDC never issued): a forged TGT with a long lifetime.',
    thresholds: {
      // maxTicketHours: the domain's "Maximum lifetime for user ticket"; toleranceMinutes: clock skew and renewal slack.
      high: { maxTicketHours: 10, toleranceMinutes: 60 },
      medium: { maxTicketHours: 10, toleranceMinutes: 20 },
      low: { maxTicketHours: 10, toleranceMinutes: 5 },
    },
  },
  create({ thresholds: t, directory }) {
    const lifetimeMs = (t.maxTicketHours ?? 10) * 3_600_000 + (t.toleranceMinutes ?? 60) * 60_000;
    // When the KDC last issued or renewed a TGT, by account and address and by account alone.
    const bySource = new Map<string, number>();
    const byAccount = new Map<string, number>();
    const realms = new Set<string>();
    const incidents = new Cooldown(lifetimeMs);
    let since: number | undefined;
    return {
      push(row, time, event): readonly IdentityFinding[] {
        since ??= time;
        if (row.table !== 'IdentityLogonEvents' || text(row, 'ActionType') !== LogonAction.success)
          return noFindings;
        const name = text(row, 'AccountName');
        const ip = text(row, 'IPAddress');
        if (!name) return noFindings;
        const account = canonicalAccount(name);
        const domain = text(row, 'AccountDomain').toLowerCase();
        if (isTgtIssued(row) || isTgtRenewed(row)) {
          if (isTgtIssued(row) && domain && realms.size < DOMAINS) realms.add(domain);
          setRecent(bySource, `${account}|${ip}`, time, ACCOUNTS);
          setRecent(byAccount, account, time, ACCOUNTS);
          return noFindings;
        }
        if (!isTgsRequest(row) || isKrbtgt(row) || !domain || !realms.has(domain)) return noFindings;
        if (!ip || isLoopback(ip) || directory.isDomainController(ip)) return noFindings;
        if (name.endsWith('$') && directory.isDomainController(name)) return noFindings;
        const fromHere = bySource.get(`${account}|${ip}`);
        const anywhere = byAccount.get(account);
        const age = fromHere !== undefined ? time - fromHere : undefined;
        const expired = age !== undefined && age > lifetimeMs;
        const never =
          fromHere === undefined &&
          time - since > lifetimeMs &&
          (anywhere === undefined || time - anywhere > lifetimeMs);
        if (!expired && !never) return noFindings;
        if (!incidents.take(`${account}|${ip}`, time)) return noFindings;
        const who = accountLabel(row);
        const service = text(row, 'TargetAccountDisplayName') || extra(row, 'ServiceName');
        const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} hours`;
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description:
              `${who} requested a service ticket${service ? ` for ${service}` : ''} from ${ip} with a TGT ` +
              (age !== undefined
                ? `last issued or renewed to that address ${hours(age)} earlier`
                : `the KDC has not issued to that address in the ${hours(time - since)} observed`) +
              `, beyond the maximum ticket lifetime of ${t.maxTicketHours ?? 10} hours`,
            accounts: [who],
            devices: unique([text(row, 'DeviceName')]),
            ips: [ip],
            events: [event],
            targets: { accounts: unique([service]), devices: unique([text(row, 'DestinationDeviceName')]) },
          },
        ];
      },
      get size() {
        return bySource.size + byAccount.size + realms.size + incidents.size;
      },
    };
  },
};

/** Existence evidence: what only an existing account produces. */
const existingReasons = new Set([
  'WrongPassword',
  'PreauthRequired',
  'AccountLocked',
  'AccountDisabled',
  'AccountDisabledOrLocked',
  'PasswordExpired',
]);

/**
 * How the domain is written, learned from accounts known to exist. Each kind of event is compared
 * with its own kind: a logon (4624) and a directory event name the NetBIOS domain from the
 * account's token, a service-ticket request (4769) the realm of a ticket the KDC wrote. A TGT
 * request (4768) is not a guide: it keeps the realm as the client typed it (`threebeesco.com`).
 */
interface Spellings {
  readonly logon: Set<string>;
  readonly ticket: Set<string>;
}

/** Which use of a Kerberos ticket a row is: a logon with it, or a service-ticket request. */
function ticketUse(row: TableRow): keyof Spellings | undefined {
  if (extra(row, 'EventId') === '4624' && text(row, 'Protocol').toLowerCase() === 'kerberos') return 'logon';
  return isTgsRequest(row) ? 'ticket' : undefined;
}

function learnAccounts(row: TableRow, time: number, known: Map<string, number>, spellings: Spellings): void {
  const name = text(row, 'AccountName');
  const domain = text(row, 'AccountDomain');
  if (row.table === 'IdentityDirectoryEvents') {
    const target = text(row, 'TargetAccountDisplayName');
    if (target) setRecent(known, canonicalAccount(target), time, ACCOUNTS);
    if (!name) return;
    setRecent(known, canonicalAccount(name), time, ACCOUNTS);
    if (domain) addBounded(spellings.logon, domain, DOMAINS);
    return;
  }
  if (row.table !== 'IdentityLogonEvents' || !name) return;
  const success = text(row, 'ActionType') === LogonAction.success;
  // Cheap tests first: most rows are service tickets of accounts already known.
  const exists = success
    ? isTgtIssued(row) ||
      (text(row, 'LogonType') === 'Credentials Validation' && text(row, 'Protocol').toLowerCase() === 'ntlm')
    : existingReasons.has(text(row, 'FailureReason'));
  const key = canonicalAccount(name);
  if (exists) setRecent(known, key, time, ACCOUNTS);
  if (!domain || !success) return;
  const kind = ticketUse(row);
  if (kind && known.has(key)) addBounded(spellings[kind], domain, DOMAINS);
}

/** Why an account's name or domain looks made up; none when it looks ordinary. */
function forgerySigns(name: string, domain: string, kind: keyof Spellings, spellings: Spellings): string[] {
  const signs: string[] = [];
  const usual = spellings[kind];
  const lower = domain.toLowerCase();
  if (/eo\.oe|kiwi/i.test(domain))
    signs.push(`its domain "${domain}" is the one mimikatz writes into forged tickets`);
  else if (domain && !usual.has(domain) && [...usual].some((s) => s.toLowerCase() === lower))
    signs.push(
      `its domain is spelled "${domain}", unlike in other ${kind === 'logon' ? 'logons' : 'service-ticket requests'}`,
    );
  else if (kind === 'logon' && domain === '' && usual.size > 0) signs.push('its logon names no domain');
  else if (
    kind === 'logon' &&
    domain.includes('.') &&
    [...usual].some((s) => !s.includes('.') && s.toLowerCase() === lower.split('.')[0])
  )
    signs.push(
      `its logon names the domain by its DNS name "${domain}" where Windows writes the NetBIOS name`,
    );
  if (looksRandom(name)) signs.push(`its name "${name}" looks random`);
  return signs;
}

/** Hex strings (`a3f9c2e1`) and names that keep switching between letters and digits (`x7k2q9p`). */
function looksRandom(name: string): boolean {
  const n = name.replace(/\$$/, '').toLowerCase();
  if (/^[0-9a-f]{8,}$/.test(n) && /\d/.test(n) && /[a-f]/.test(n)) return true;
  let switches = 0;
  for (let i = 1; i < n.length; i++)
    if (/\d/.test(n[i] as string) !== /\d/.test(n[i - 1] as string)) switches++;
  return n.length >= 6 && switches >= 4;
}

function isTgtIssued(row: TableRow): boolean {
  return extra(row, 'KerberosRequest') === 'AS' && text(row, 'ActionType') === LogonAction.success;
}

function isTgtRenewed(row: TableRow): boolean {
  return extra(row, 'EventId') === '4770' && isKrbtgt(row);
}

function isTgsRequest(row: TableRow): boolean {
  return extra(row, 'KerberosRequest') === 'TGS' && extra(row, 'EventId') !== '4770';
}

function isKrbtgt(row: TableRow): boolean {
  const service = extra(row, 'ServiceName') || text(row, 'TargetAccountDisplayName');
  return canonicalAccount(service.split('/')[0] ?? '') === 'krbtgt';
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.');
}

/** Adds to a set that stops growing at `cap`. */
function addBounded(set: Set<string>, value: string, cap: number): void {
  if (set.size < cap) set.add(value);
}
