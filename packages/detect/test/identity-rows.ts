// Hand-built Identity rows in the normalisers' shape, for detector tests.
import type { TableRow } from '@palisade/schema';
import type { AlertEvent } from '../src/index.ts';

export const T0 = Date.UTC(2024, 4, 1, 9, 0, 0);
export const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

let record = 0;

/** A row of `table` at `seconds` after T0, with an AlertEvent naming its record. */
export function row(
  table: TableRow['table'],
  seconds: number,
  values: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): [TableRow, AlertEvent] {
  record++;
  const eventId = typeof extra.EventId === 'number' ? extra.EventId : 0;
  return [
    {
      table,
      values: { Timestamp: at(seconds), ...values, AdditionalFields: { ...extra } } as TableRow['values'],
    },
    {
      timestamp: at(seconds),
      channel: 'Security',
      eventId,
      computer: 'DC01.corp.local',
      recordId: record,
      file: 'test.evtx',
    },
  ];
}

/** A failed Kerberos pre-authentication (4771) for `account` from `ip`. */
export function kerberosFailure(
  seconds: number,
  account: string,
  ip: string,
  reason = 'WrongPassword',
): [TableRow, AlertEvent] {
  return row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: 'LogonFailed',
      Protocol: 'Kerberos',
      LogonType: 'Credentials Validation',
      FailureReason: reason,
      AccountName: account,
      AccountDomain: 'CORP',
      IPAddress: ip,
      DestinationDeviceName: 'DC01',
    },
    { EventId: 4771, KerberosRequest: 'AS' },
  );
}

/** A 4662 replication access by `account`. */
export function replication(
  seconds: number,
  account: string,
  rights: string[],
  ip?: string,
): [TableRow, AlertEvent] {
  return row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'Directory Services replication',
      AccountName: account,
      AccountDomain: 'CORP',
      DeviceName: 'DC01',
      ...(ip ? { IPAddress: ip } : {}),
    },
    { EventId: 4662, ReplicationRights: rights },
  );
}

/** A member added to (or removed from) a group by `actor`. */
export function groupChange(
  seconds: number,
  actor: string,
  group: string,
  member: string,
  action: 'Added' | 'Removed' = 'Added',
  groupSid = '',
): [TableRow, AlertEvent] {
  return row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'Group Membership changed',
      AccountName: actor,
      AccountDomain: 'CORP',
      DeviceName: 'DC01',
      TargetAccountDisplayName: member,
    },
    {
      EventId: action === 'Added' ? 4728 : 4729,
      [action === 'Added' ? 'TO.GROUP' : 'FROM.GROUP']: group,
      GroupName: group,
      GroupSid: groupSid,
      MemberName: `CN=${member},CN=Users,DC=corp,DC=local`,
      Action: action,
    },
  );
}
