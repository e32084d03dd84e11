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

/** What a detector adds to a row's finding. */
export interface FindingDetails {
  /** Devices that acted or that alerts about them should be silenced by (none by default). */
  readonly devices?: readonly string[];
  /** What was acted on; the device that logged the row is added as a target. */
  readonly targets?: Partial<Entities>;
  readonly severity?: IdentitySeverity;
}

/**
 * A finding about one row: the actor and the source address are its entities. The device that
 * logged a directory change is the DC that processed it, not a party to it, so it is a target.
 */
export function rowFinding(
  row: TableRow,
  event: AlertEvent,
  description: string,
  details: FindingDetails = {},
): IdentityFinding {
  const targetDevices = unique([...(details.targets?.devices ?? []), text(row, 'DeviceName')]);
  return {
    timestamp: text(row, 'Timestamp') || event.timestamp,
    description,
    accounts: unique([actorLabel(row)]),
    devices: unique(details.devices ?? []),
    ips: unique([text(row, 'IPAddress')]),
    events: [event],
    targets: { ...details.targets, ...(targetDevices.length > 0 ? { devices: targetDevices } : {}) },
    ...(details.severity ? { severity: details.severity } : {}),
  };
}
