// 2412 Suspected AS-REP Roasting attack: the KDC issued TGTs (4768) without pre-authentication
// (PreAuthType 0) — possible only for accounts with "Do not require Kerberos preauthentication" —
// so the requester holds a reply encrypted with the account's key to crack offline; RC4 replies
// are the ones roasting tools ask for.
import { LogonAction } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import {
  accountLabel,
  type DetectorMeta,
  extra,
  type IdentityDetector,
  type IdentityFinding,
  isWeakTicket,
  noFindings,
  text,
} from './detector.ts';
import { canonicalAccount } from './directory.ts';
import { Cooldown, distinctBy, KeyedWindows, unique } from './windows.ts';

const SOURCES = 50_000;
const PER_SOURCE = 1_000;
/** Further roasting from the same source within this span is the same incident. */
const INCIDENT_MS = 60 * 60_000;

const meta: DetectorMeta = {
  id: 'identity/asrep-roasting',
  externalId: 2412,
  tables: ['IdentityLogonEvents'],
  title: 'Suspected AS-REP Roasting attack',
  severity: 'high',
  tactics: ['Credential Access'],
  techniques: ['T1558', 'T1558.004'],
  description:
    'Ticket-granting tickets were issued without Kerberos pre-authentication for accounts that do not require it, so the requester can crack their passwords offline (AS-REP Roasting).',
  thresholds: {
    // rc4Accounts: distinct accounts answered with an RC4 (or DES) reply; accounts: with any reply.
    high: { rc4Accounts: 1, accounts: 3, windowMinutes: 10 },
    medium: { rc4Accounts: 1, accounts: 2, windowMinutes: 10 },
    low: { rc4Accounts: 1, accounts: 1, windowMinutes: 10 },
  },
};

interface Reply {
  readonly key: string;
  readonly account: string;
  readonly weak: boolean;
  readonly event: AlertEvent;
}

export const asrepRoastingDetector: IdentityDetector = {
  meta,
  create({ thresholds: t }) {
    const windowMs = (t.windowMinutes ?? 10) * 60_000;
    const bySource = new KeyedWindows<Reply>(windowMs, SOURCES, PER_SOURCE);
    const incidents = new Cooldown(INCIDENT_MS, SOURCES);
    return {
      push(row, time, event): readonly IdentityFinding[] {
        if (row.table !== 'IdentityLogonEvents' || text(row, 'ActionType') !== LogonAction.success)
          return noFindings;
        if (extra(row, 'KerberosRequest') !== 'AS' || extra(row, 'PreAuthType').trim() !== '0')
          return noFindings;
        const name = text(row, 'AccountName');
        const ip = text(row, 'IPAddress');
        const device = text(row, 'DeviceName');
        const source = ip || device;
        if (!name || !source) return noFindings;
        const replies = bySource.add(source, time, {
          key: canonicalAccount(name),
          account: accountLabel(row),
          weak: isWeakTicket(row),
          event,
        });
        const accounts = distinctBy(
          replies,
          (r) => r.key,
          (r) => r.account,
        );
        const weak = distinctBy(
          replies.filter((r) => r.weak),
          (r) => r.key,
          (r) => r.account,
        );
        if (
          weak.length < (t.rc4Accounts ?? Number.POSITIVE_INFINITY) &&
          accounts.length < (t.accounts ?? Number.POSITIVE_INFINITY)
        )
          return noFindings;
        bySource.clear(source);
        if (!incidents.take(source, time)) return noFindings;
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description:
              `${source} obtained ticket-granting tickets without pre-authentication for ${accounts.length === 1 ? 'the account ' : `${accounts.length} accounts: `}${accounts.slice(0, 20).join(', ')}${accounts.length > 20 ? ', …' : ''}` +
              `${weak.length > 0 ? ` (${weak.length === accounts.length ? 'RC4-encrypted' : `${weak.length} RC4-encrypted`})` : ''}`,
            // The accounts the tickets were issued to, as the events name them: excluding one (a
            // legacy application's account) silences its alerts.
            accounts,
            devices: unique([device]),
            ips: unique([ip]),
            events: replies.map((r) => r.event),
            targets: { accounts, devices: unique([text(row, 'DestinationDeviceName')]) },
          },
        ];
      },
      get size() {
        return bySource.size + incidents.size;
      },
    };
  },
};
