// 2017 Suspected identity theft (pass-the-hash), from logs. Two paths: a NewCredentials logon
// (4624 type 9) by the secondary-logon process `seclogo` — what mimikatz `sekurlsa::pth` and
// `runas /netonly` leave on the attacker's computer — alerts at once; and an NTLM logon for an
// account from a computer (name or address) it has not used before, once the account has a
// baseline of the computers it normally uses (Defender for Identity's wording for 2017).
import { LogonAction, type TableRow } from '@palisade/schema';
import {
  accountLabel,
  type DetectorMeta,
  extra,
  type IdentityDetector,
  type IdentityFinding,
  noFindings,
  text,
} from './detector.ts';
import { canonicalAccount, canonicalHost } from './directory.ts';
import { Cooldown, setRecent, unique } from './windows.ts';

const DAY_MS = 86_400_000;
const ACCOUNTS = 100_000;
/** An account seen on more places than this roams (service, helpdesk): new places say nothing. */
const PLACES_PER_ACCOUNT = 64;

const meta: DetectorMeta = {
  id: 'identity/pass-the-hash',
  externalId: 2017,
  tables: ['IdentityLogonEvents'],
  title: 'Suspected identity theft (pass-the-hash)',
  severity: 'high',
  tactics: ['Lateral Movement'],
  techniques: ['T1550', 'T1550.002'],
  description:
    "An account's NTLM hash was used to log on: a NewCredentials logon by the secondary-logon process (the trace of mimikatz sekurlsa::pth), or an NTLM logon from a computer the account does not normally use.",
  thresholds: {
    // baselineDays: how long an account's computers are learned before a new one alerts.
    high: { baselineDays: 7 },
    medium: { baselineDays: 0 },
    low: { baselineDays: 0 },
  },
};

interface Profile {
  readonly since: number;
  /** The computer names and the addresses the account authenticated from. */
  readonly names: Set<string>;
  readonly ips: Set<string>;
}

export const passTheHashDetector: IdentityDetector = {
  meta,
  create({ thresholds: t }) {
    const baselineMs = (t.baselineDays ?? 7) * DAY_MS;
    const profiles = new Map<string, Profile>();
    const seclogon = new Cooldown(10 * 60_000);

    function profileOf(account: string, time: number): Profile {
      const p = profiles.get(account) ?? { since: time, names: new Set<string>(), ips: new Set<string>() };
      setRecent(profiles, account, p, ACCOUNTS);
      return p;
    }

    return {
      push(row, time, event): readonly IdentityFinding[] {
        if (row.table !== 'IdentityLogonEvents' || text(row, 'ActionType') !== LogonAction.success)
          return noFindings;
        const name = text(row, 'AccountName');
        if (!name || name.endsWith('$') || (name.length === 15 && name.toUpperCase() === 'ANONYMOUS LOGON'))
          return noFindings;

        if (isNewCredentialsBySeclogo(row)) {
          // Logged on the computer where the hash was injected: that computer is the source.
          const host = text(row, 'DestinationDeviceName') || text(row, 'DeviceName');
          if (!seclogon.take(`${canonicalAccount(name)}|${canonicalHost(host)}`, time)) return noFindings;
          const outbound = [extra(row, 'TargetOutboundDomainName'), extra(row, 'TargetOutboundUserName')]
            .filter(Boolean)
            .join('\\');
          return [
            {
              timestamp: text(row, 'Timestamp') || event.timestamp,
              description: `${accountLabel(row)} started a NewCredentials logon (logon type 9) through the secondary-logon process on ${host || 'an unknown computer'}${outbound ? `, with the network credentials of ${outbound}` : ''}: the trace of pass-the-hash (mimikatz sekurlsa::pth) or runas /netonly`,
              accounts: [accountLabel(row)],
              devices: unique([host]),
              ips: [],
              events: [event],
              ...(outbound ? { targets: { accounts: [outbound] } } : {}),
            },
          ];
        }

        // Service-ticket requests repeat the address of the session's TGT request: learning from
        // them adds nothing, and they are most of a DC's Kerberos traffic.
        if (extra(row, 'KerberosRequest') === 'TGS') return noFindings;
        const device = canonicalHost(text(row, 'DeviceName'));
        const ip = routable(text(row, 'IPAddress'));
        if (!device && !ip) return noFindings;
        // A local account is a different account on every computer; a domain account is keyed by
        // the domain's first label, the same in its NetBIOS name and realm (CORP, CORP.LOCAL).
        const domain = text(row, 'AccountDomain').toLowerCase().split('.')[0] ?? '';
        const { since, names, ips } = profileOf(`${canonicalAccount(name)}|${domain}`, time);
        const known = (device !== '' && names.has(device)) || (ip !== '' && ips.has(ip));
        // Compare like with like: the DC's NTLM validation (4776) names the computer only, its
        // Kerberos events (4768) give the address only.
        const comparable = (device !== '' && names.size > 0) || (ip !== '' && ips.size > 0);
        const roaming = names.size + ips.size >= PLACES_PER_ACCOUNT;
        if (!roaming) {
          if (device) names.add(device);
          if (ip) ips.add(ip);
        }
        if (known || roaming || !comparable || time - since < baselineMs || !isNtlmLogon(row))
          return noFindings;
        const server = text(row, 'DestinationDeviceName');
        const source = text(row, 'DeviceName');
        const from = source && ip ? `${source} (${ip})` : source || ip;
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${accountLabel(row)} logged on with NTLM from ${from}${server ? ` to ${server}` : ''}, a computer the account has not used in the ${Math.round((time - since) / DAY_MS)} days it has been observed`,
            accounts: [accountLabel(row)],
            devices: unique([source]),
            ips: unique([ip]),
            events: [event],
            targets: { devices: unique([server]) },
            // A new computer is weaker evidence than the seclogo trace.
            severity: 'medium',
          },
        ];
      },
      get size() {
        let n = seclogon.size;
        for (const p of profiles.values()) n += 1 + p.names.size + p.ips.size;
        return n;
      },
    };
  },
};

function isNewCredentialsBySeclogo(row: TableRow): boolean {
  return (
    text(row, 'LogonType') === 'Logon type 9' &&
    extra(row, 'LogonProcessName').trim().toLowerCase() === 'seclogo'
  );
}

/** A network logon (4624 type 3) or a DC's validation (4776, 8004) that used NTLM. */
function isNtlmLogon(row: TableRow): boolean {
  const type = text(row, 'LogonType');
  return (
    text(row, 'Protocol').toLowerCase() === 'ntlm' &&
    (type === 'Resource Access' || type === 'Credentials Validation')
  );
}

/** The address, or '' for loopback and unspecified addresses, which say nothing about the source. */
function routable(ip: string): string {
  return ip === '' || ip === '::1' || ip === '::' || ip === '0.0.0.0' || ip.startsWith('127.') ? '' : ip;
}
