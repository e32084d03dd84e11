// Kerberos encryption downgrades, seen in the rows packets give (a DC's logs show neither the
// pre-authentication key nor the TGT a request presents):
// - 2008 Suspected over-pass-the-hash attack (forced encryption type): an account that has
//   pre-authenticated with an AES key gets a TGT pre-authenticating with RC4 or DES. A tool
//   holding only the stolen NT hash can do nothing else; Windows with the password uses AES.
// - 2009 Suspected Golden Ticket usage (encryption downgrade): a TGS-REQ presents a TGT
//   encrypted with a weaker type than the realm's KDC issues TGTs with, and no AS or TGS
//   exchange seen issued that ticket. The KDC encrypts every TGT with the krbtgt account's
//   strongest key, so an RC4 TGT in an AES realm was made elsewhere — with the krbtgt hash.
import { LogonAction, type TableRow } from '@palisade/schema';
import {
  AES_STRENGTH,
  accountLabel,
  type DetectorMeta,
  etypeStrength,
  extra,
  type IdentityDetector,
  noFindings,
  text,
} from './detector.ts';
import { canonicalAccount } from './directory.ts';
import { Cooldown, setRecent, unique } from './windows.ts';

const ACCOUNTS = 200_000;
const TICKETS = 500_000;
const REALMS = 1_000;
const DAY_MS = 86_400_000;
/** How long an account's AES pre-authentication is remembered. */
const REMEMBER_MS = 30 * DAY_MS;

// RFC 3961/3962/8009 and RFC 4757 etype numbers, as the normalisers write them (hex).
const etypeNames: Readonly<Record<string, string>> = {
  '0x1': 'DES-CBC-CRC',
  '0x3': 'DES-CBC-MD5',
  '0x11': 'AES128',
  '0x12': 'AES256',
  '0x13': 'AES128-SHA256',
  '0x14': 'AES256-SHA384',
  '0x17': 'RC4',
  '0x18': 'RC4-EXP',
};
const named = (etype: string) => `${etypeNames[etype] ?? etype} (${etype})`;

const isKerberos = (row: TableRow) =>
  row.table === 'IdentityLogonEvents' && text(row, 'Protocol') === 'Kerberos';

export const overPassTheHashDetector: IdentityDetector = {
  meta: {
    id: 'identity/overpass-the-hash',
    externalId: 2008,
    tables: ['IdentityLogonEvents'],
    title: 'Suspected over-pass-the-hash attack (forced encryption type)',
    severity: 'medium',
    tactics: ['Lateral Movement', 'Defense Evasion'],
    techniques: ['T1550', 'T1550.002', 'T1550.003'],
    description:
      'An account that pre-authenticates with AES got a TGT pre-authenticating with RC4 or DES, as a stolen NT hash forces.',
    learningPeriodDays: 30,
  } satisfies DetectorMeta,
  create() {
    // account → when it last pre-authenticated with AES, and with which type.
    const strong = new Map<string, { time: number; etype: string }>();
    const cooldown = new Cooldown(60 * 60_000, ACCOUNTS);
    return {
      push(row, time, event) {
        if (!isKerberos(row) || extra(row, 'KerberosRequest') !== 'AS') return noFindings;
        if (text(row, 'ActionType') !== LogonAction.success) return noFindings;
        const etype = extra(row, 'PreAuthEncryptionType');
        const rank = etypeStrength(etype);
        const account = canonicalAccount(text(row, 'AccountName'));
        if (!rank || !account) return noFindings;
        if (rank === AES_STRENGTH) {
          setRecent(strong, account, { time, etype }, ACCOUNTS);
          return noFindings;
        }
        const before = strong.get(account);
        if (!before || time - before.time > REMEMBER_MS) return noFindings;
        const ip = text(row, 'IPAddress');
        if (!cooldown.take(`${account}|${ip}`, time)) return noFindings;
        const who = accountLabel(row);
        const device = text(row, 'DeviceName');
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${device || ip || 'A client'} got a TGT for ${who} pre-authenticating with ${named(etype)}, though ${who} pre-authenticated with ${named(before.etype)} before: an encryption downgrade as over-pass-the-hash forces`,
            accounts: [who],
            devices: unique([device]),
            ips: unique([ip]),
            events: [event],
            targets: {
              devices: unique([text(row, 'DestinationDeviceName') || text(row, 'DestinationIPAddress')]),
            },
          },
        ];
      },
      get size() {
        return strong.size + cooldown.size;
      },
    };
  },
};

/** `krbtgt/REALM` → `REALM` (upper case); other services → ''. */
function tgtRealm(service: string): string {
  const m = /^krbtgt\/([^@]+)/i.exec(service);
  return m ? (m[1] as string).toUpperCase() : '';
}

export const goldenTicketDowngradeDetector: IdentityDetector = {
  meta: {
    id: 'identity/golden-ticket-downgrade',
    externalId: 2009,
    tables: ['IdentityLogonEvents'],
    title: 'Suspected Golden Ticket usage (encryption downgrade)',
    severity: 'medium',
    tactics: ['Persistence', 'Privilege Escalation', 'Lateral Movement'],
    techniques: ['T1558', 'T1558.001'],
    description:
      'A TGS-REQ presented a TGT encrypted more weakly than the realm issues TGTs, and no exchange seen issued it.',
    learningPeriodDays: 5,
  } satisfies DetectorMeta,
  create() {
    // TGTs seen issued (by the head of their cipher text), and each realm's strongest TGT type.
    const issued = new Map<string, true>();
    const realmEtype = new Map<string, string>();
    const cooldown = new Cooldown(60 * 60_000, ACCOUNTS);
    return {
      push(row, time, event) {
        if (!isKerberos(row)) return noFindings;
        const tgtId = extra(row, 'TgtId');
        if (tgtId && text(row, 'ActionType') === LogonAction.success) {
          setRecent(issued, tgtId, true, TICKETS);
          const realm = tgtRealm(extra(row, 'ServiceName')) || text(row, 'AccountDomain').toUpperCase();
          const etype = extra(row, 'TgtEncryptionType');
          const known = realmEtype.get(realm);
          const rank = etypeStrength(etype);
          if (realm && rank && (!known || rank > (etypeStrength(known) ?? 0)))
            setRecent(realmEtype, realm, etype, REALMS);
        }
        if (extra(row, 'KerberosRequest') !== 'TGS') return noFindings;
        const presented = extra(row, 'PresentedTicketId');
        const realm = tgtRealm(extra(row, 'PresentedTicketService'));
        const etype = extra(row, 'PresentedTicketEncryptionType');
        if (!presented || !realm || issued.has(presented)) return noFindings;
        const usual = realmEtype.get(realm);
        const rank = etypeStrength(etype);
        if (!usual || !rank || rank >= (etypeStrength(usual) ?? 0)) return noFindings;
        const ip = text(row, 'IPAddress');
        const who = accountLabel(row);
        if (!cooldown.take(`${presented}|${ip}`, time)) return noFindings;
        const device = text(row, 'DeviceName');
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${device || ip || 'A client'} presented a TGT of ${realm} encrypted with ${named(etype)}${who ? ` for ${who}` : ''}, though the realm issues its TGTs with ${named(usual)} and no exchange seen issued this one: a forged ticket`,
            accounts: unique([who]),
            devices: unique([device]),
            ips: unique([ip]),
            events: [event],
            targets: { accounts: unique([text(row, 'TargetAccountDisplayName')]) },
          },
        ];
      },
      get size() {
        return issued.size + realmEtype.size + cooldown.size;
      },
    };
  },
};
