// The rows one directory object becomes: an IdentityInfo row for each user and computer account
// (Microsoft's columns, filled with what Active Directory holds), and for every object a
// PalisadeRawEvents row sharing its ReportId that keeps what IdentityInfo has no column for
// (SPNs, flags, adminCount, uSNs, direct and nested groups, why it was sent).
import type { Dynamic, TableRow } from '@palisade/schema';
import { accountControlFacts, decodeAccountControl } from './directory-account-control.ts';
import { parseGeneralizedTime } from './directory-identifiers.ts';
import {
  accountName,
  all,
  type DirectoryObject,
  first,
  type MembershipGraph,
  type SensitiveEntity,
} from './directory-membership.ts';

/** Why an object is in a pass: it changed, a group above it changed, or its sensitivity did. */
export type SyncReason = 'changed' | 'membership' | 'sensitivity';

/** One object of a sync pass, with the ordering key its checkpoint uses. */
export interface SyncItem {
  readonly object: DirectoryObject;
  /** The uSN this item is delivered under: its own uSNChanged or the change that affects it. */
  readonly key: number;
  readonly timestamp: string;
  readonly reasons: readonly SyncReason[];
}

/** What a row needs beyond the object: where it was read and how it sits in the groups. */
export interface RowContext {
  /** The DNS name of the domain controller that answered. */
  readonly dc: string;
  /** The domain's DNS name (AccountDomain). */
  readonly domain: string;
  readonly graph: MembershipGraph;
  readonly sensitive: ReadonlyMap<string, SensitiveEntity>;
}

const int = (text: string | undefined) => {
  const n = text === undefined ? Number.NaN : Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
};

/** Drops undefined members, so rows hold only the columns they fill. */
function defined(values: Record<string, Dynamic | undefined>): Record<string, Dynamic> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<
    string,
    Dynamic
  >;
}

/** The rows of one sync item (see the file header). */
export function directoryRows(item: SyncItem, context: RowContext): TableRow[] {
  const { object } = item;
  const reportId = `directory:${object.guid}:${item.key}`;
  const groups = context.graph.groupsOf(object);
  const entity = context.sensitive.get(object.guid);
  const uac = int(first(object, 'userAccountControl'));
  const flags =
    uac === undefined
      ? []
      : decodeAccountControl(uac, int(first(object, 'msDS-User-Account-Control-Computed')));
  const spns = [...all(object, 'servicePrincipalName')].sort();
  const rows: TableRow[] = [];
  if (object.kind !== 'group') {
    const facts = accountControlFacts(flags);
    const managed = all(object, 'objectClass').some((c) => /^msDS-(Group)?ManagedServiceAccount$/i.test(c));
    const tags = [
      ...(entity ? ['Sensitive'] : []),
      ...(facts.enabled ? [] : ['Disabled']),
      ...(flags.includes('LOCKOUT') ? ['Locked'] : []),
      ...(flags.includes('PASSWORD_EXPIRED') ? ['Expired'] : []),
    ];
    rows.push({
      table: 'IdentityInfo',
      values: defined({
        Timestamp: item.timestamp,
        ReportId: reportId,
        AccountObjectId: object.guid,
        OnPremObjectId: object.guid,
        AccountUpn: first(object, 'userPrincipalName'),
        OnPremSid: object.sid,
        AccountDisplayName: first(object, 'displayName') ?? first(object, 'cn'),
        AccountName: accountName(object),
        AccountDomain: context.domain,
        Type: object.kind === 'user' ? (managed || spns.length > 0 ? 'ServiceAccount' : 'User') : undefined,
        DistinguishedName: object.dn,
        GivenName: first(object, 'givenName'),
        Surname: first(object, 'sn'),
        Department: first(object, 'department'),
        JobTitle: first(object, 'title'),
        EmailAddress: first(object, 'mail'),
        Address: first(object, 'streetAddress'),
        City: first(object, 'l'),
        Country: first(object, 'co') ?? first(object, 'c'),
        IsAccountEnabled: uac === undefined ? undefined : facts.enabled,
        Manager: first(object, 'manager'),
        Phone: first(object, 'telephoneNumber'),
        CreatedDateTime: parseGeneralizedTime(first(object, 'whenCreated') ?? ''),
        CompanyName: first(object, 'company'),
        EmployeeId: first(object, 'employeeID'),
        Tags: tags,
        UserAccountControl: flags.length > 0 ? flags.join(', ') : undefined,
        IdentityEnvironment: 'On-premises',
        SourceProviders: ['ActiveDirectory'],
        GroupMembership: groups.map(accountName).sort(),
      }),
    });
  }
  rows.push({
    table: 'PalisadeRawEvents',
    values: defined({
      Timestamp: item.timestamp,
      Source: 'directory',
      DeviceName: context.dc,
      Channel: object.kind,
      Provider: 'LDAP',
      EventId: 0,
      RecordId: object.usnChanged,
      ReportId: reportId,
      Data: defined({
        distinguishedName: object.dn,
        objectGUID: object.guid,
        objectSid: object.sid,
        sAMAccountName: first(object, 'sAMAccountName'),
        objectClass: [...all(object, 'objectClass')],
        reasons: [...item.reasons],
        uSNChanged: object.usnChanged,
        uSNCreated: int(first(object, 'uSNCreated')),
        whenChanged: parseGeneralizedTime(first(object, 'whenChanged') ?? ''),
        whenCreated: parseGeneralizedTime(first(object, 'whenCreated') ?? ''),
        userAccountControl: uac,
        userAccountControlFlags: uac === undefined ? undefined : flags,
        servicePrincipalName: spns.length > 0 ? spns : undefined,
        adminCount: int(first(object, 'adminCount')),
        primaryGroupID: int(first(object, 'primaryGroupID')),
        groupType: int(first(object, 'groupType')),
        dNSHostName: first(object, 'dNSHostName'),
        operatingSystem: first(object, 'operatingSystem'),
        allowedToDelegateTo: optionalList(all(object, 'msDS-AllowedToDelegateTo')),
        supportedEncryptionTypes: int(first(object, 'msDS-SupportedEncryptionTypes')),
        pwdLastSet: first(object, 'pwdLastSet'),
        lastLogonTimestamp: first(object, 'lastLogonTimestamp'),
        memberOf: optionalList(all(object, 'memberOf')),
        member: object.kind === 'group' ? [...all(object, 'member')].sort() : undefined,
        groups: groups.map(accountName).sort(),
        sensitive: entity !== undefined,
        sensitiveVia: entity ? [...entity.via] : undefined,
      }),
    }),
  });
  return rows;
}

function optionalList(values: readonly string[]): string[] | undefined {
  return values.length > 0 ? [...values].sort() : undefined;
}
