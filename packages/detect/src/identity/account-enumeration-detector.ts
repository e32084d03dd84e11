// 2003 Account enumeration reconnaissance: one source tries many account names that do not exist
// (Kerberos "principal unknown", NTLM "no such user"). Failures on the same source that prove a
// name exists (wrong password, pre-authentication required…) are the guesses that matched.
import { LogonAction } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import {
  type DetectorMeta,
  type IdentityDetector,
  type IdentityFinding,
  noFindings,
  text,
} from './detector.ts';
import { canonicalAccount } from './directory.ts';
import { Cooldown, distinctBy, KeyedWindows, unique } from './windows.ts';

/** Failures that say the name is unknown to the domain. */
const unknownReasons = new Set(['NoSuchUser', 'PrincipalUnknown']);

/** Failures that can only happen to an account that exists. */
const existingReasons = new Set([
  'WrongPassword',
  'PreauthRequired',
  'AccountLocked',
  'AccountDisabled',
  'AccountDisabledOrLocked',
  'AccountExpired',
  'PasswordExpired',
  'PasswordMustChange',
  'InvalidLogonHours',
  'InvalidWorkstation',
  'LogonTypeNotGranted',
]);

const PER_SOURCE = 5_000;
const SOURCES = 50_000;
/** After an alert, the same source's continuing guesses belong to the same incident for this long. */
const INCIDENT_MS = 60 * 60_000;

const meta: DetectorMeta = {
  id: 'identity/account-enumeration',
  externalId: 2003,
  tables: ['IdentityLogonEvents'],
  title: 'Account enumeration reconnaissance',
  severity: 'medium',
  tactics: ['Discovery'],
  techniques: ['T1087', 'T1087.002'],
  description:
    'One source tried to authenticate as many account names that do not exist, the way a dictionary tool (such as KrbGuess) discovers which names are valid.',
  thresholds: {
    // unknownAccounts: distinct names that do not exist, tried from one source within the window.
    high: { unknownAccounts: 10, windowMinutes: 10 },
    medium: { unknownAccounts: 5, windowMinutes: 10 },
    low: { unknownAccounts: 3, windowMinutes: 30 },
  },
};

interface Guess {
  readonly key: string;
  readonly name: string;
  readonly exists: boolean;
  readonly event: AlertEvent;
}

export const accountEnumerationDetector: IdentityDetector = {
  meta,
  create({ thresholds: t }) {
    const windowMs = (t.windowMinutes ?? 10) * 60_000;
    const needed = t.unknownAccounts ?? Number.POSITIVE_INFINITY;
    const bySource = new KeyedWindows<Guess>(windowMs, SOURCES, PER_SOURCE);
    const incidents = new Cooldown(INCIDENT_MS, SOURCES);
    return {
      push(row, time, event): readonly IdentityFinding[] {
        if (row.table !== 'IdentityLogonEvents' || text(row, 'ActionType') !== LogonAction.failure)
          return noFindings;
        const reason = text(row, 'FailureReason');
        const exists = existingReasons.has(reason);
        if (!exists && !unknownReasons.has(reason)) return noFindings;
        const ip = text(row, 'IPAddress');
        const device = text(row, 'DeviceName');
        const source = ip || device;
        const name = text(row, 'AccountName');
        if (!source || !name) return noFindings;
        const guesses = bySource.add(source, time, { key: canonicalAccount(name), name, exists, event });
        if (exists) return noFindings;
        const unknown = distinctBy(
          guesses.filter((g) => !g.exists),
          (g) => g.key,
          (g) => g.name,
        );
        if (unknown.length < needed) return noFindings;
        bySource.clear(source);
        if (!incidents.take(source, time)) return noFindings;
        const matched = distinctBy(
          guesses.filter((g) => g.exists),
          (g) => g.key,
          (g) => g.name,
        );
        const total = unknown.length + matched.length;
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description:
              `${source} tried ${total} account names within ${windowMs / 60_000} minutes, ${unknown.length} of them unknown to the domain` +
              `${matched.length > 0 ? `; names that exist: ${list(matched)}` : '; none matched'}; unknown names tried: ${list(unknown)}`,
            // The guessed names are not actors: exclusions apply to the source.
            accounts: [],
            devices: unique([device]),
            ips: unique([ip]),
            events: guesses.map((g) => g.event),
            targets: { accounts: matched },
          },
        ];
      },
      get size() {
        return bySource.size + incidents.size;
      },
    };
  },
};

/** Names for a description: the first 20, then an ellipsis. */
function list(names: readonly string[]): string {
  return `${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}`;
}
