// 2410 Suspected Kerberos SPN exposure (Kerberoasting): one account on one source requests
// service tickets (4769) for many distinct user-account services within minutes, above all with
// RC4 tickets, whose encrypted part can be cracked offline for the service account's password.
import { LogonAction, type TableRow } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import {
  accountLabel,
  type DetectorMeta,
  extra,
  extraList,
  type IdentityDetector,
  type IdentityFinding,
  isWeakTicket,
  noFindings,
  text,
} from './detector.ts';
import { canonicalAccount } from './directory.ts';
import { Cooldown, distinctBy, KeyedWindows, unique } from './windows.ts';

const KEYS = 50_000;
const PER_KEY = 1_000;
/** Further requests by the same account and source within this span are the same incident. */
const INCIDENT_MS = 60 * 60_000;

const meta: DetectorMeta = {
  id: 'identity/kerberoasting',
  externalId: 2410,
  tables: ['IdentityLogonEvents'],
  title: 'Suspected Kerberos SPN exposure',
  severity: 'high',
  tactics: ['Credential Access'],
  techniques: ['T1558', 'T1558.003'],
  description:
    'One account requested service tickets for many service accounts within minutes, most of them RC4-encrypted, to crack the service accounts’ passwords offline (Kerberoasting).',
  thresholds: {
    // rc4Services: distinct services with RC4 (or DES) tickets; services: distinct services with any ticket.
    high: { rc4Services: 5, services: 20, windowMinutes: 5 },
    medium: { rc4Services: 3, services: 10, windowMinutes: 10 },
    low: { rc4Services: 2, services: 5, windowMinutes: 10 },
  },
};

interface Request {
  readonly service: string;
  readonly weak: boolean;
  readonly event: AlertEvent;
}

export const kerberoastingDetector: IdentityDetector = {
  meta,
  create({ thresholds: t, directory }) {
    const windowMs = (t.windowMinutes ?? 5) * 60_000;
    const byRequester = new KeyedWindows<Request>(windowMs, KEYS, PER_KEY);
    const incidents = new Cooldown(INCIDENT_MS, KEYS);
    return {
      push(row, time, event): readonly IdentityFinding[] {
        if (row.table !== 'IdentityLogonEvents' || text(row, 'ActionType') !== LogonAction.success)
          return noFindings;
        if (extra(row, 'KerberosRequest') !== 'TGS' || extra(row, 'EventId') === '4770') return noFindings;
        const service = extra(row, 'ServiceName') || text(row, 'TargetAccountDisplayName');
        const name = text(row, 'AccountName');
        if (!service || !name) return noFindings;
        // Computer services (`host$`) have random 120-character passwords, and krbtgt requests
        // are TGT renewals or referrals: neither is worth roasting.
        const serviceKey = canonicalAccount(service.split('/')[0] ?? service);
        if (serviceKey === 'krbtgt' || serviceKey.endsWith('$')) return noFindings;
        const ip = text(row, 'IPAddress');
        if (directory.isDomainController(ip) || (name.endsWith('$') && directory.isDomainController(name)))
          return noFindings;
        const key = `${canonicalAccount(name)}|${ip}`;
        const weakTicket = isWeakTicket(row);
        const requests = byRequester.add(key, time, { service, weak: weakTicket, event });
        // Distinct services are counted only when there are enough requests to reach a threshold.
        const enoughWeak =
          requests.reduce((n, r) => (r.weak ? n + 1 : n), 0) >= (t.rc4Services ?? Number.POSITIVE_INFINITY);
        const enoughAll = requests.length >= (t.services ?? Number.POSITIVE_INFINITY);
        // Seen on the wire: a client that offers the KDC no AES type and gets an RC4 or DES
        // ticket for a user-account service is a roasting tool (Windows clients always offer AES).
        const downgrade = weakTicket && offersNoAes(row);
        if (!enoughWeak && !enoughAll && !downgrade) return noFindings;
        const services = distinctBy(
          requests,
          (r) => r.service.toLowerCase(),
          (r) => r.service,
        );
        const weak = distinctBy(
          requests.filter((r) => r.weak),
          (r) => r.service.toLowerCase(),
          (r) => r.service,
        );
        if (
          !downgrade &&
          weak.length < (t.rc4Services ?? Number.POSITIVE_INFINITY) &&
          services.length < (t.services ?? Number.POSITIVE_INFINITY)
        )
          return noFindings;
        byRequester.clear(key);
        if (!incidents.take(key, time)) return noFindings;
        const who = accountLabel(row);
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description:
              `${who} requested service tickets for ${services.length} services from ${ip || 'an unknown address'} within ${windowMs / 60_000} minutes` +
              `${weak.length > 0 ? `, ${weak.length} of them RC4-encrypted` : ''}: ${services.slice(0, 20).join(', ')}${services.length > 20 ? ', …' : ''}`,
            accounts: [who],
            devices: unique([text(row, 'DeviceName')]),
            ips: unique([ip]),
            events: requests.map((r) => r.event),
            targets: { accounts: services, devices: unique([text(row, 'DestinationDeviceName')]) },
          },
        ];
      },
      get size() {
        return byRequester.size + incidents.size;
      },
    };
  },
};

/** AES encryption types (RFC 3962, RFC 8009). */
const aesEtypes = new Set([0x11, 0x12, 0x13, 0x14]);

/** The request (as captured on the network) offered the KDC no AES encryption type. */
function offersNoAes(row: TableRow): boolean {
  const offered = extraList(row, 'RequestedEtypes');
  return offered.length > 0 && !offered.some((e) => aesEtypes.has(Number.parseInt(e, 16)));
}
