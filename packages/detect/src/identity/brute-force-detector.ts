// 2023 Suspected Brute Force attack (Kerberos, NTLM), 2004 (LDAP) and 2033 (SMB): many password
// failures from one source, either on one account (vertical) or across many accounts
// (horizontal, a password spray). Failures for accounts that do not exist are account
// enumeration (2003). NTLM failures seen in SMB2 session setups on the wire are 2033's; NTLM
// failures from a DC's logs (4776, 4625) do not say which protocol carried them and stay 2023's.
import { LogonAction, type TableRow } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import {
  accountLabel,
  type DetectorMeta,
  extra,
  type IdentityDetector,
  type IdentityFinding,
  noFindings,
  text,
} from './detector.ts';
import { Cooldown, KeyedWindows, unique } from './windows.ts';

const passwordFailures = new Set([
  'WrongPassword',
  'BadUserNameOrPassword',
  'PasswordExpired',
  'AccountLocked',
]);

/** Entries per source kept at most. */
const PER_SOURCE = 2_000;
const SOURCES = 50_000;

const thresholds = {
  // accounts: distinct accounts failed from one source; failures: failures on one account.
  high: { accounts: 10, failures: 20, windowMinutes: 10 },
  medium: { accounts: 5, failures: 10, windowMinutes: 10 },
  low: { accounts: 3, failures: 5, windowMinutes: 30 },
} as const;

interface Failure {
  readonly account: string;
  readonly event: AlertEvent;
  readonly time: string;
}

function makeDetector(meta: DetectorMeta, accepts: (row: TableRow) => boolean): IdentityDetector {
  return {
    meta,
    create({ thresholds: t }) {
      const windowMs = (t.windowMinutes ?? 10) * 60_000;
      const bySource = new KeyedWindows<Failure>(windowMs, SOURCES, PER_SOURCE);
      // One alert per source and hour: an attack that goes on is one incident, not many.
      const cooldown = new Cooldown(60 * 60_000, SOURCES);
      return {
        push(row, _time, event): readonly IdentityFinding[] {
          if (row.table !== 'IdentityLogonEvents' || text(row, 'ActionType') !== LogonAction.failure)
            return noFindings;
          if (!passwordFailures.has(text(row, 'FailureReason')) || !accepts(row)) return noFindings;
          const ip = text(row, 'IPAddress');
          const device = text(row, 'DeviceName');
          const source = ip || device;
          const account = accountLabel(row);
          if (!source || !account) return noFindings;
          const failures = bySource.add(source, _time, {
            account,
            event,
            time: text(row, 'Timestamp') || event.timestamp,
          });
          const accounts = unique(failures.map((f) => f.account));
          const onThis = failures.filter((f) => f.account === account).length;
          const spray = accounts.length >= (t.accounts ?? Number.POSITIVE_INFINITY);
          const vertical = onThis >= (t.failures ?? Number.POSITIVE_INFINITY);
          if (!spray && !vertical) return noFindings;
          bySource.clear(source);
          if (!cooldown.take(source, _time)) return noFindings;
          const named = spray ? accounts : [account];
          return [
            {
              timestamp: failures[failures.length - 1]?.time ?? event.timestamp,
              description: spray
                ? `${source} failed to authenticate as ${accounts.length} accounts within ${windowMs / 60_000} minutes (password spray): ${named.slice(0, 20).join(', ')}${named.length > 20 ? ', …' : ''}`
                : `${source} failed to authenticate as ${account} ${onThis} times within ${windowMs / 60_000} minutes`,
              accounts: named,
              devices: unique([device]),
              ips: unique([ip]),
              events: failures.filter((f) => spray || f.account === account).map((f) => f.event),
            },
          ];
        },
        get size() {
          return bySource.size + cooldown.size;
        },
      };
    },
  };
}

export const bruteForceDetector = makeDetector(
  {
    id: 'identity/brute-force',
    externalId: 2023,
    tables: ['IdentityLogonEvents'],
    title: 'Suspected Brute Force attack (Kerberos, NTLM)',
    severity: 'medium',
    tactics: ['Credential Access'],
    techniques: ['T1110', 'T1110.001', 'T1110.003'],
    description:
      'Many authentication failures from one source: many passwords on few accounts, or few passwords across many accounts (password spray).',
    learningPeriodDays: 7,
    thresholds,
  },
  (row) => {
    const p = text(row, 'Protocol').toLowerCase();
    return (p === 'kerberos' || p === 'ntlm' || p === 'negotiate') && !overSmb(row);
  },
);

/** An NTLM failure the sensor saw inside an SMB2 session setup. */
function overSmb(row: TableRow): boolean {
  return extra(row, 'Source') === 'network' && extra(row, 'Application') === 'SMB';
}

export const smbBruteForceDetector = makeDetector(
  {
    id: 'identity/brute-force-smb',
    externalId: 2033,
    tables: ['IdentityLogonEvents'],
    title: 'Suspected Brute Force attack (SMB)',
    severity: 'medium',
    tactics: ['Lateral Movement'],
    techniques: ['T1110', 'T1110.001', 'T1110.003'],
    description:
      'Many failed SMB session setups (NTLM) from one source, horizontal or vertical, seen on the wire.',
    thresholds,
  },
  overSmb,
);

export const ldapBruteForceDetector = makeDetector(
  {
    id: 'identity/brute-force-ldap',
    externalId: 2004,
    tables: ['IdentityLogonEvents'],
    title: 'Suspected Brute Force attack (LDAP)',
    severity: 'medium',
    tactics: ['Credential Access'],
    techniques: ['T1110', 'T1110.001', 'T1110.003'],
    description: 'Many LDAP simple-bind failures from one source, horizontal or vertical.',
    thresholds,
  },
  (row) => text(row, 'Protocol').toLowerCase() === 'ldap' || text(row, 'LogonType') === 'LDAP Cleartext',
);
