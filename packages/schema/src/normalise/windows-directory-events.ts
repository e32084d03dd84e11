// Windows directory and account events → IdentityDirectoryEvents: directory-service access and
// changes (4662, 5136, 5137, 5141), account management (47xx), services installed (7045, 4697),
// file-share access (5145) and Netlogon secure-channel events (5805, 5827–5829). The account is
// the acting subject; TargetAccountDisplayName is the account or directory object acted on.
import { DirectoryAction } from '../action-types.ts';
import type { Dynamic } from '../rows.ts';
import {
  fields,
  firstRdnValue,
  type IdentityBuilder,
  type IdentityDraft,
  ipAddress,
  namedFields,
  port,
  subjectAccount,
  type WindowsRecord,
} from './windows-fields.ts';

type DirectoryActionType = (typeof DirectoryAction)[keyof typeof DirectoryAction];

/** The control-access rights of directory replication (MS-ADTS §5.1.3.2.1), by rights GUID. */
export const replicationRights: Readonly<Record<string, string>> = {
  '1131f6aa-9c07-11d1-f79f-00c04fc2dcd2': 'Get-Changes',
  '1131f6ad-9c07-11d1-f79f-00c04fc2dcd2': 'Get-Changes-All',
  '89e95b76-444d-4c62-991a-0facbeda640c': 'Get-Changes-In-Filtered-Set',
};

/** 5136 ActionType by the changed attribute's LDAP display name (lower case). */
const attributeActions: Readonly<Record<string, DirectoryActionType>> = {
  samaccountname: DirectoryAction.samNameChanged,
  userprincipalname: DirectoryAction.upnChanged,
  sidhistory: DirectoryAction.sidHistoryChanged,
  'msds-allowedtoactonbehalfofotheridentity': DirectoryAction.delegationChanged,
  'msds-allowedtodelegateto': DirectoryAction.delegationChanged,
  'msds-supportedencryptiontypes': DirectoryAction.encryptionTypesChanged,
  member: DirectoryAction.groupMembership,
};

/** userAccountControl flags that grant delegation: TRUSTED_FOR_DELEGATION, TRUSTED_TO_AUTH_FOR_DELEGATION (MS-ADTS §2.2.16). */
const delegationFlags = 0x80000 | 0x1000000;

/** 5136 OperationType tokens. */
export const operationTypes: Readonly<Record<string, string>> = {
  '%%14674': 'ValueAdded',
  '%%14675': 'ValueDeleted',
};

/**
 * Account-management events: their ActionType, fixed AdditionalFields, and whether the event
 * lists account attributes (SamAccountName, UserAccountControl, …) to carry along.
 */
export const accountEvents: Readonly<
  Record<number, { action: DirectoryActionType; extra?: Record<string, Dynamic>; attributes?: true }>
> = {
  4720: { action: DirectoryAction.userCreated, attributes: true },
  4741: { action: DirectoryAction.computerCreated, attributes: true },
  4726: { action: DirectoryAction.principalDeleted },
  4743: { action: DirectoryAction.principalDeleted },
  4722: { action: DirectoryAction.disabledChanged, extra: { Disabled: false } },
  4725: { action: DirectoryAction.disabledChanged, extra: { Disabled: true } },
  4723: { action: DirectoryAction.passwordChanged, extra: { Reset: false } },
  4724: { action: DirectoryAction.passwordChanged, extra: { Reset: true } },
  4740: { action: DirectoryAction.lockedChanged, extra: { Locked: true } },
  4767: { action: DirectoryAction.lockedChanged, extra: { Locked: false } },
  4738: { action: DirectoryAction.attributeChanged, attributes: true },
  4742: { action: DirectoryAction.attributeChanged, attributes: true },
};

/** Fields of the account events that name who and what, not an attribute of the account. */
const notAttributes = new Set([
  'TargetUserName',
  'TargetDomainName',
  'TargetSid',
  'SubjectUserSid',
  'SubjectUserName',
  'SubjectDomainName',
  'SubjectLogonId',
  'PrivilegeList',
  'ComputerAccountChange',
  'Dummy',
]);

/** Group member added/removed events, for every group type (security/distribution × global/local/universal). */
export const groupMemberEvents: Readonly<Record<number, 'Added' | 'Removed'>> = {
  4728: 'Added', // security-enabled global
  4732: 'Added', // security-enabled local
  4756: 'Added', // security-enabled universal
  4751: 'Added', // distribution global
  4761: 'Added', // distribution universal
  4746: 'Added', // distribution local
  4729: 'Removed',
  4733: 'Removed',
  4757: 'Removed',
  4752: 'Removed',
  4762: 'Removed',
  4747: 'Removed',
};

function directory(values: IdentityDraft['values']): IdentityDraft {
  return { table: 'IdentityDirectoryEvents', values };
}

/** The acting subject of a Security event, on the computer that logged it. */
function subject(r: WindowsRecord) {
  return { ...subjectAccount(r), DeviceName: r.computer };
}

// 4662 An operation was performed on an object. Properties lists the rights and the GUIDs of
// the property sets, properties and control-access rights used, e.g. `%%7688 {1131f6aa-…}`.
const objectOperation: IdentityBuilder = (r) => {
  const properties = r.raw('Properties');
  const guids = [...new Set((properties?.match(guidPattern) ?? []).map((g) => g.toLowerCase()))];
  const rights = guids.flatMap((g) => {
    const right = replicationRights[g];
    return right === undefined ? [] : [right];
  });
  return directory({
    ActionType: rights.length > 0 ? DirectoryAction.replication : DirectoryAction.objectAccess,
    ...subject(r),
    TargetAccountDisplayName: r.text('ObjectName'),
    AdditionalFields: fields({
      EventId: r.eventId,
      ObjectServer: r.text('ObjectServer'),
      ObjectType: r.text('ObjectType'),
      ObjectName: r.text('ObjectName'),
      OperationType: r.text('OperationType'),
      AccessMask: r.text('AccessMask'),
      Properties: properties,
      Guids: guids,
      ReplicationRights: rights,
    }),
  });
};
const guidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

// 5136 A directory service object was modified (one event per attribute value added or deleted).
const objectModified: IdentityBuilder = (r) => {
  const attribute = r.text('AttributeLDAPDisplayName');
  const value = r.text('AttributeValue');
  const operation = r.text('OperationType');
  return directory({
    ActionType: attributeChangeAction(attribute, value === undefined ? [] : [value]),
    ...subject(r),
    TargetAccountDisplayName: firstRdnValue(r.text('ObjectDN')),
    AdditionalFields: fields({
      EventId: r.eventId,
      ObjectDN: r.text('ObjectDN'),
      ObjectGUID: r.text('ObjectGUID'),
      ObjectClass: r.text('ObjectClass'),
      AttributeLDAPDisplayName: attribute,
      AttributeValue: value,
      OperationType: operation === undefined ? undefined : (operationTypes[operation] ?? operation),
      OpCorrelationID: r.text('OpCorrelationID'),
    }),
  });
};

/**
 * The ActionType of a change to `attribute` with `values` (5136, and Samba's dsdbChange): by
 * attribute name, or a delegation change when a userAccountControl value carries a delegation
 * flag. A change is two records, old value deleted and new value added, so either one with the
 * flag counts; a change that keeps a flag set counts too, as one record cannot tell.
 */
export function attributeChangeAction(
  attribute: string | undefined,
  values: readonly string[],
): DirectoryActionType {
  const name = attribute?.toLowerCase() ?? '';
  const action = Object.hasOwn(attributeActions, name) ? attributeActions[name] : undefined;
  if (action) return action;
  if (
    name === 'useraccountcontrol' &&
    values.some((v) => /^\d+$/.test(v) && (Number(v) & delegationFlags) !== 0)
  ) {
    return DirectoryAction.delegationChanged;
  }
  return DirectoryAction.attributeChanged;
}

// 5137 A directory service object was created; 5141 … was deleted.
const objectCreatedOrDeleted: IdentityBuilder = (r) => {
  const objectClass = r.text('ObjectClass');
  const created = r.eventId === 5137;
  const kind = objectClass?.toLowerCase();
  return directory({
    ActionType: !created
      ? DirectoryAction.objectDeleted
      : kind === 'user'
        ? DirectoryAction.userCreated
        : kind === 'computer'
          ? DirectoryAction.computerCreated
          : DirectoryAction.objectCreated,
    ...subject(r),
    TargetAccountDisplayName: firstRdnValue(r.text('ObjectDN')),
    AdditionalFields: fields({
      EventId: r.eventId,
      ObjectDN: r.text('ObjectDN'),
      ObjectGUID: r.text('ObjectGUID'),
      ObjectClass: objectClass,
    }),
  });
};

/** The target account of an account-management event. */
function target(r: WindowsRecord) {
  return { TargetSid: r.text('TargetSid'), TargetDomainName: r.text('TargetDomainName') };
}

// 4720 created, 4722/4725 enabled/disabled, 4723/4724 password change/reset, 4726 deleted,
// 4738 changed, 4740/4767 locked out/unlocked, 4741/4742/4743 computer created/changed/deleted.
const accountEvent: IdentityBuilder = (r) => {
  const spec = accountEvents[r.eventId ?? 0];
  if (!spec) return undefined;
  const attributes = spec.attributes ? namedFields(r, notAttributes) : {};
  // 4738/4742 list only the attributes that changed; a new SamAccountName is a rename.
  const renamed = spec.action === DirectoryAction.attributeChanged && attributes.SamAccountName !== undefined;
  return directory({
    ActionType: renamed ? DirectoryAction.samNameChanged : spec.action,
    ...subject(r),
    TargetAccountDisplayName: r.text('TargetUserName'),
    AdditionalFields: fields({ EventId: r.eventId, ...target(r), ...spec.extra, ...attributes }),
  });
};

// 4781 The name of an account was changed.
const accountRenamed: IdentityBuilder = (r) =>
  directory({
    ActionType: DirectoryAction.samNameChanged,
    ...subject(r),
    TargetAccountDisplayName: r.text('NewTargetUserName'),
    AdditionalFields: fields({
      EventId: r.eventId,
      ...target(r),
      OldTargetUserName: r.text('OldTargetUserName'),
      NewTargetUserName: r.text('NewTargetUserName'),
    }),
  });

// 4765 SID History was added to an account; 4766 An attempt to add SID History failed.
// DsAddSidHistory adds the source account's own SID (SourceSid) and copies the source's SID
// history (SidList, `-` when empty), so SidHistory lists both: the SIDs the target gains.
const sidHistory: IdentityBuilder = (r) => {
  const source = r.text('SourceSid');
  const added = [...(source === undefined ? [] : [source]), ...(r.text('SidList')?.match(sidPattern) ?? [])];
  return directory({
    ActionType: DirectoryAction.sidHistoryChanged,
    ...subject(r),
    TargetAccountDisplayName: r.text('TargetUserName'),
    AdditionalFields: fields({
      EventId: r.eventId,
      ...target(r),
      SidHistory: [...new Set(added)],
      SourceUserName: r.text('SourceUserName'),
      SourceSid: source,
      Success: r.eventId === 4765,
    }),
  });
};
const sidPattern = /S-1-\d+(?:-\d+)+/gi;

// 4794 An attempt was made to set the Directory Services Restore Mode administrator password.
const dsrmPassword: IdentityBuilder = (r) =>
  directory({
    ActionType: DirectoryAction.dsrmPasswordChanged,
    ...subject(r),
    AdditionalFields: fields({
      EventId: r.eventId,
      Status: r.text('Status'),
      Workstation: r.text('Workstation'),
    }),
  });

// 4728/4732/4756/4751/4761/4746 A member was added to a group; 4729/… removed. The group is
// Target*; MemberName is the member's DN on a DC and `-` for local accounts.
const groupMember: IdentityBuilder = (r) => {
  const action = groupMemberEvents[r.eventId ?? 0];
  if (!action) return undefined;
  const group = r.text('TargetUserName');
  const member = r.text('MemberName');
  return directory({
    ActionType: DirectoryAction.groupMembership,
    ...subject(r),
    TargetAccountDisplayName: firstRdnValue(member) ?? r.text('MemberSid'),
    AdditionalFields: fields({
      EventId: r.eventId,
      [action === 'Added' ? 'TO.GROUP' : 'FROM.GROUP']: group,
      GroupName: group,
      GroupDomain: r.text('TargetDomainName'),
      GroupSid: r.text('TargetSid'),
      MemberName: member,
      MemberSid: r.text('MemberSid'),
      Action: action,
    }),
  });
};

// 7045 (System, Service Control Manager) A service was installed in the system. The installing
// account is only in System/Security/@UserID.
const serviceInstalledScm: IdentityBuilder = (r) =>
  directory({
    ActionType: DirectoryAction.serviceCreation,
    AccountSid: r.userId,
    DeviceName: r.computer,
    AdditionalFields: fields({
      EventId: r.eventId,
      ServiceName: r.text('ServiceName'),
      ServiceFileName: r.text('ImagePath'),
      ServiceType: r.text('ServiceType'),
      StartType: r.text('StartType'),
      ServiceAccount: r.text('AccountName'),
    }),
  });

// 4697 (Security) A service was installed in the system.
const serviceInstalledSecurity: IdentityBuilder = (r) =>
  directory({
    ActionType: DirectoryAction.serviceCreation,
    ...subject(r),
    AdditionalFields: fields({
      EventId: r.eventId,
      ServiceName: r.text('ServiceName'),
      ServiceFileName: r.text('ServiceFileName'),
      ServiceType: r.text('ServiceType'),
      StartType: r.text('ServiceStartType'),
      ServiceAccount: r.text('ServiceAccount'),
    }),
  });

// 5145 A network share object was checked to see whether client can be granted desired access.
const shareAccess: IdentityBuilder = (r) =>
  directory({
    ActionType: DirectoryAction.shareAccess,
    ...subject(r),
    IPAddress: ipAddress(r.text('IpAddress')),
    Port: port(r.text('IpPort')),
    AdditionalFields: fields({
      EventId: r.eventId,
      ShareName: r.text('ShareName'),
      ShareLocalPath: r.text('ShareLocalPath'),
      RelativeTargetName: r.text('RelativeTargetName'),
      AccessMask: r.text('AccessMask'),
      AccessList: r.text('AccessList'),
    }),
  });

// 5805 (System, NETLOGON) The session setup from a computer failed to authenticate; 5827/5828
// a vulnerable Netlogon secure channel connection was denied (machine/trust account); 5829 one
// was allowed. Classic events: their fields are unnamed insertion strings.
function netlogon(action: DirectoryActionType): IdentityBuilder {
  return (r) =>
    directory({
      ActionType: action,
      DeviceName: r.computer,
      AdditionalFields: fields({ EventId: r.eventId, Data: [...r.insertionStrings] }),
    });
}

/** Security-log builders by event id. */
export const securityDirectoryBuilders: Readonly<Record<number, IdentityBuilder>> = {
  4662: objectOperation,
  5136: objectModified,
  5137: objectCreatedOrDeleted,
  5141: objectCreatedOrDeleted,
  ...Object.fromEntries(Object.keys(accountEvents).map((id) => [id, accountEvent])),
  4781: accountRenamed,
  4765: sidHistory,
  4766: sidHistory,
  4794: dsrmPassword,
  ...Object.fromEntries(Object.keys(groupMemberEvents).map((id) => [id, groupMember])),
  4697: serviceInstalledSecurity,
  5145: shareAccess,
};

/** System-log builders by provider, then event id. */
export const systemDirectoryBuilders: Readonly<Record<string, Readonly<Record<number, IdentityBuilder>>>> = {
  'Service Control Manager': { 7045: serviceInstalledScm },
  NETLOGON: {
    5805: netlogon(DirectoryAction.netlogonDenied),
    5827: netlogon(DirectoryAction.netlogonDenied),
    5828: netlogon(DirectoryAction.netlogonDenied),
    5829: netlogon(DirectoryAction.netlogonVulnerableAllowed),
  },
};
