// Windows events that show directory reconnaissance → IdentityQueryEvents: SAM handles opened
// through the SAM RPC server (4661) and local user/group membership enumeration (4798, 4799).
// They are logged by the computer queried, so it is the destination; the querying device is not
// in the event.
import { QueryAction } from '../action-types.ts';
import { fields, type IdentityBuilder, subjectAccount, type WindowsRecord } from './windows-fields.ts';

/** 4661 QueryType by the SAM object type opened (MS-SAMR §3.1.1: server, domain, group, alias, user). */
export const samQueryTypes: Readonly<Record<string, string>> = {
  SAM_SERVER: 'QueryServer',
  SAM_DOMAIN: 'QueryDomain',
  SAM_GROUP: 'QueryGroup',
  SAM_ALIAS: 'QueryAlias',
  SAM_USER: 'QueryUser',
};

/** The querying subject; the DC that answered is the destination. */
function subject(r: WindowsRecord) {
  return { ...subjectAccount(r), DestinationDeviceName: r.computer };
}

// 4661 A handle to an object was requested; only the SAM server's handles are SAMR queries
// (the directory service logs 4661 for its own objects too).
const samHandle: IdentityBuilder = (r) => {
  if (r.text('ObjectServer') !== 'Security Account Manager') return undefined;
  const objectType = r.text('ObjectType');
  return {
    table: 'IdentityQueryEvents',
    values: {
      ActionType: QueryAction.samr,
      Protocol: 'Samr',
      QueryType: objectType === undefined ? undefined : (samQueryTypes[objectType] ?? `Query${objectType}`),
      QueryTarget: r.text('ObjectName'),
      ...subject(r),
      AdditionalFields: fields({
        EventId: r.eventId,
        ObjectServer: r.text('ObjectServer'),
        ObjectType: objectType,
        ObjectName: r.text('ObjectName'),
        AccessMask: r.text('AccessMask'),
        ProcessName: r.text('ProcessName'),
      }),
    },
  };
};

// 4798 A user's local group membership was enumerated; 4799 A security-enabled local group
// membership was enumerated.
const membershipEnumerated: IdentityBuilder = (r) => ({
  table: 'IdentityQueryEvents',
  values: {
    ActionType: QueryAction.samr,
    Protocol: 'Samr',
    QueryType: r.eventId === 4798 ? 'QueryUser' : 'QueryGroup',
    QueryTarget: r.text('TargetUserName'),
    TargetAccountDisplayName: r.text('TargetUserName'),
    ...subject(r),
    AdditionalFields: fields({
      EventId: r.eventId,
      TargetSid: r.text('TargetSid'),
      TargetDomainName: r.text('TargetDomainName'),
      CallerProcessName: r.text('CallerProcessName'),
    }),
  },
});

/** Security-log builders by event id. */
export const securityQueryBuilders: Readonly<Record<number, IdentityBuilder>> = {
  4661: samHandle,
  4798: membershipEnumerated,
  4799: membershipEnumerated,
};
