// Reading directory-change rows for the detectors built on them: the attribute change a 5136
// row (or a Samba dsdbChange row of the same shape) records, and the finding for one row.
import type { TableRow } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import {
  accountLabel,
  type Entities,
  extra,
  type IdentityFinding,
  type IdentitySeverity,
  text,
} from './detector.ts';
import { unique } from './windows.ts';

/** One value added to or removed from one attribute of one directory object. */
export interface AttributeChange {
  readonly dn: string;
  readonly objectClass: string;
  /** The LDAP display name, lower case. */
  readonly attribute: string;
  readonly value: string;
  readonly added: boolean;
}

/** The attribute change a directory row records, if it records one. */
export function attributeChange(row: TableRow): AttributeChange | undefined {
  if (row.table !== 'IdentityDirectoryEvents') return undefined;
  const attribute = extra(row, 'AttributeLDAPDisplayName');
  if (!attribute) return undefined;
  return {
    dn: extra(row, 'ObjectDN'),
    objectClass: extra(row, 'ObjectClass'),
    attribute: attribute.toLowerCase(),
    value: extra(row, 'AttributeValue'),
    added: extra(row, 'OperationType') !== 'ValueDeleted',
  };
}

/** Who acted: `DOMAIN\\name`, or the SID where the event names no account (7045). */
export function actorLabel(row: TableRow): string {
  return accountLabel(row) || text(row, 'AccountSid');
}

/** A finding about one row: its actor, the device that logged it and its source IP are the entities. */
export function rowFinding(
  row: TableRow,
  event: AlertEvent,
  description: string,
  targets?: Partial<Entities>,
  severity?: IdentitySeverity,
): IdentityFinding {
  return {
    timestamp: text(row, 'Timestamp') || event.timestamp,
    description,
    accounts: unique([actorLabel(row)]),
    devices: unique([text(row, 'DeviceName')]),
    ips: unique([text(row, 'IPAddress')]),
    events: [event],
    ...(targets ? { targets } : {}),
    ...(severity ? { severity } : {}),
  };
}
