// Hand-written events at the edges of the Windows normaliser: missing fields, `-` values,
// IPv4-mapped addresses, GUID braces and case in 4662, unknown status codes, split account
// names, escaped DNs, odd value types. Inputs are made up here; field names follow Microsoft's
// event documentation, and each expected value follows from the input by the normaliser's
// contract (the code tables it cites: MS-ERREF NTSTATUS, RFC 4120 Kerberos errors).
import type { EventSystem, EvtxEvent } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { normaliseWindowsEvent } from '../src/normalise/windows-identity.ts';
import { checkRow, type TableRow } from '../src/rows.ts';

const dc = 'DC1.corp.example';
const time = '2024-01-02T03:04:05.1234567Z';

function securityEvent(
  eventId: number,
  data: Record<string, string | string[]>,
  system: Partial<EventSystem> = {},
) {
  const event: EvtxEvent = {
    recordId: 7,
    timestamp: time,
    writtenTime: time,
    system: {
      provider: 'Microsoft-Windows-Security-Auditing',
      eventId,
      channel: 'Security',
      computer: dc,
      eventRecordId: 42,
      ...system,
    },
    eventData: data,
  };
  return event;
}

/** Normalises and checks every row against its table. */
function normalise(event: EvtxEvent, source?: string): TableRow[] {
  const rows = normaliseWindowsEvent(event, source);
  for (const row of rows) expect(checkRow(row), `${row.table} ${JSON.stringify(row.values)}`).toEqual([]);
  return rows;
}

/** The Identity* row of an event (there must be exactly one). */
function identityRow(event: EvtxEvent): TableRow {
  const rows = normalise(event).filter((r) => r.table !== 'PalisadeRawEvents');
  expect(rows).toHaveLength(1);
  return rows[0] as TableRow;
}

function extra(row: TableRow): Record<string, unknown> {
  return row.values.AdditionalFields as Record<string, unknown>;
}

describe('missing and odd input', () => {
  it('an empty object gives only a raw row with empty values', () => {
    const rows = normalise({} as EvtxEvent);
    expect(rows).toStrictEqual([{ table: 'PalisadeRawEvents', values: { Source: 'evtx', ReportId: '::' } }]);
  });

  it('a mapped event without EventData still gives its row, with only what the System block says', () => {
    const event = securityEvent(4624, {});
    delete event.eventData;
    expect(normalise(event, 'forwarded')).toStrictEqual([
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: time,
          ActionType: 'LogonSuccess',
          DestinationDeviceName: dc,
          ReportId: `${dc}:Security:42`,
          AdditionalFields: { EventId: 4624 },
        },
      },
      {
        table: 'PalisadeRawEvents',
        values: {
          Timestamp: time,
          Source: 'forwarded',
          DeviceName: dc,
          Channel: 'Security',
          Provider: 'Microsoft-Windows-Security-Auditing',
          EventId: 4624,
          RecordId: 42,
          ReportId: `${dc}:Security:42`,
        },
      },
    ]);
  });

  it('falls back to the record header id when System has no EventRecordID', () => {
    const event = securityEvent(4776, { Status: '0x0' });
    delete event.system.eventRecordId;
    const rows = normalise(event);
    expect(rows.map((r) => r.values.ReportId)).toEqual([`${dc}:Security:7`, `${dc}:Security:7`]);
    expect(rows[1]?.values.RecordId).toBe(7);
  });

  it('reads values of the wrong type, a bad timestamp and a non-numeric event id as absent', () => {
    const odd = securityEvent(4624, { TargetUserName: ['a', 'b'], IpPort: '70000' });
    (odd.eventData as Record<string, unknown>).IpAddress = 12;
    expect(identityRow({ ...odd, timestamp: 'yesterday' }).values).toStrictEqual({
      ActionType: 'LogonSuccess',
      DestinationDeviceName: dc,
      ReportId: `${dc}:Security:42`,
      AdditionalFields: { EventId: 4624 },
    });
    const noId = normalise(securityEvent('4624' as unknown as number, {}));
    expect(noId).toHaveLength(1);
    expect(noId[0]?.values.EventId).toBeUndefined();
  });

  it('keeps UserData as the raw row Data and reads fields from its wrapper element', () => {
    const event = securityEvent(4624, {});
    delete event.eventData;
    event.userData = { LogonEvent: { TargetUserName: 'carol', LogonType: '3' } };
    const rows = normalise(event);
    expect(rows[0]?.values).toMatchObject({ AccountName: 'carol', LogonType: 'Resource Access' });
    expect(rows[1]?.values.Data).toStrictEqual({ LogonEvent: { TargetUserName: 'carol', LogonType: '3' } });
  });

  it('gives only the raw row for events it does not map', () => {
    expect(normalise(securityEvent(4688, { NewProcessName: 'C:\\x.exe' })).map((r) => r.table)).toEqual([
      'PalisadeRawEvents',
    ]);
    // 5805 from a provider other than NETLOGON is another event.
    const other = securityEvent(5805, {}, { channel: 'System', provider: 'Some-Provider' });
    expect(normalise(other).map((r) => r.table)).toEqual(['PalisadeRawEvents']);
    // 4661 for the directory service's own objects is not a SAMR query.
    expect(normalise(securityEvent(4661, { ObjectServer: 'DS' })).map((r) => r.table)).toEqual([
      'PalisadeRawEvents',
    ]);
  });
});

describe('`-`, empty values, addresses and ports', () => {
  it('reads `-` and empty strings as absent and trims values', () => {
    const row = identityRow(
      securityEvent(4624, {
        TargetUserName: '-',
        TargetDomainName: '',
        TargetUserSid: 'S-1-0-0',
        WorkstationName: '-',
        IpAddress: '-',
        IpPort: '-',
        LogonType: '5',
        LogonProcessName: 'Advapi  ',
        AuthenticationPackageName: 'Negotiate',
        LmPackageName: '-',
        SubjectUserName: ' ',
      }),
    );
    expect(row.values).toStrictEqual({
      Timestamp: time,
      ActionType: 'LogonSuccess',
      LogonType: 'Logon type 5',
      Protocol: 'Negotiate',
      DestinationDeviceName: dc,
      ReportId: `${dc}:Security:42`,
      AdditionalFields: { EventId: 4624, LogonProcessName: 'Advapi' },
    });
  });

  it.each([
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:192.168.0.1', '192.168.0.1'],
    ['::1', '::1'],
    ['::ffff:fe80::1', '::ffff:fe80::1'],
    ['fe80::1%12', 'fe80::1%12'],
  ])('IpAddress %s → %s', (ip, expected) => {
    expect(identityRow(securityEvent(4625, { IpAddress: ip })).values.IPAddress).toBe(expected);
  });

  it.each([
    ['0', undefined],
    ['-', undefined],
    ['65535', 65535],
    ['65536', undefined],
    ['49152', 49152],
    ['x1', undefined],
  ])('IpPort %s → %s', (port, expected) => {
    expect(identityRow(securityEvent(4771, { IpPort: port, Status: '0x18' })).values.Port).toBe(expected);
  });
});

describe('account names', () => {
  it('splits DOMAIN\\user when the event has no domain field value', () => {
    const row = identityRow(securityEvent(4624, { TargetUserName: 'CORP\\alice', TargetDomainName: '-' }));
    expect(row.values).toMatchObject({ AccountName: 'alice', AccountDomain: 'CORP' });
  });

  it('splits user@REALM, keeping the domain field when it has one', () => {
    const row = identityRow(
      securityEvent(4770, { TargetUserName: 'bob@CORP.EXAMPLE', TargetDomainName: 'CORP' }),
    );
    expect(row.values).toMatchObject({ AccountName: 'bob', AccountDomain: 'CORP' });
    const ntlm = identityRow(securityEvent(4776, { TargetUserName: 'dave@corp.example', Status: '0x0' }));
    expect(ntlm.values).toMatchObject({ AccountName: 'dave', AccountDomain: 'corp.example' });
  });

  it('leaves names with nothing around the separator whole', () => {
    expect(identityRow(securityEvent(4624, { TargetUserName: '@x' })).values.AccountName).toBe('@x');
    expect(identityRow(securityEvent(4624, { TargetUserName: 'x\\' })).values.AccountName).toBe('x\\');
  });
});

describe('4662 GUIDs in Properties', () => {
  it('finds GUIDs with and without braces, in any case, once each, in order', () => {
    const row = identityRow(
      securityEvent(4662, {
        SubjectUserName: 'mallory',
        ObjectServer: 'DS',
        Properties:
          '%%7688\r\n\t\t{1131F6AD-9C07-11D1-F79F-00C04FC2DCD2}\r\n\t\t89E95B76-444D-4C62-991A-0FACBEDA640C\r\n\t{1131f6ad-9c07-11d1-f79f-00c04fc2dcd2}\r\n\t{19195a5b-6da0-11d0-afd3-00c04fd930c9}\r\n\t{1131f6aa-9c07-11d1-f79f-00c04fc2dcd2}\r\n',
      }),
    );
    expect(row.values.ActionType).toBe('Directory Services replication');
    expect(extra(row).Guids).toStrictEqual([
      '1131f6ad-9c07-11d1-f79f-00c04fc2dcd2',
      '89e95b76-444d-4c62-991a-0facbeda640c',
      '19195a5b-6da0-11d0-afd3-00c04fd930c9',
      '1131f6aa-9c07-11d1-f79f-00c04fc2dcd2',
    ]);
    expect(extra(row).ReplicationRights).toStrictEqual([
      'Get-Changes-All',
      'Get-Changes-In-Filtered-Set',
      'Get-Changes',
    ]);
  });

  it('is object access without replication rights, with empty lists', () => {
    const row = identityRow(
      securityEvent(4662, { Properties: '%%1537\r\n\t{bf967a86-0de6-11d0-a285-00aa003049e2}' }),
    );
    expect(row.values.ActionType).toBe('Directory object access');
    expect(extra(row)).toMatchObject({
      Guids: ['bf967a86-0de6-11d0-a285-00aa003049e2'],
      ReplicationRights: [],
    });
    const none = identityRow(securityEvent(4662, {}));
    expect(none.values.ActionType).toBe('Directory object access');
    expect(extra(none)).toStrictEqual({ EventId: 4662, Guids: [], ReplicationRights: [] });
  });
});

describe('status codes', () => {
  it.each([
    // 4625: SubStatus wins unless it is absent or 0x0.
    [4625, { Status: '0xc000006d', SubStatus: '0xC0000064' }, 'LogonFailed', 'NoSuchUser'],
    [4625, { Status: '0xc000006d', SubStatus: '0x0' }, 'LogonFailed', 'BadUserNameOrPassword'],
    [4625, { Status: '0xC0000234', SubStatus: '-' }, 'LogonFailed', 'AccountLocked'],
    [4625, { Status: '0xc000006d', SubStatus: '0xc0000413' }, 'LogonFailed', '0xc0000413'],
    [4625, {}, 'LogonFailed', undefined],
    [4776, { Status: '0xc0000072' }, 'LogonFailed', 'AccountDisabled'],
    [4776, { Status: '0xC000015B' }, 'LogonFailed', 'LogonTypeNotGranted'],
    [4776, { Status: '0x00000000' }, 'LogonSuccess', undefined],
    [4776, { Status: 'weird' }, 'LogonFailed', 'weird'],
    [4768, { Status: '0x12' }, 'LogonFailed', 'AccountDisabledOrLocked'],
    [4768, { Status: '0x00000025' }, 'LogonFailed', 'ClockSkew'],
    [4768, { Status: '0x0' }, 'LogonSuccess', undefined],
    [4769, { Status: '0xE' }, 'LogonFailed', 'UnsupportedEncryptionType'],
    [4769, { Status: '0x1F' }, 'LogonFailed', 'IntegrityCheckFailed'],
    [4770, { Status: '0x20' }, 'LogonFailed', 'TicketExpired'],
    [4771, { Status: '0x17' }, 'LogonFailed', 'PasswordExpired'],
    [4771, { Status: '0x19' }, 'LogonFailed', 'PreauthRequired'],
    [4771, { Status: '0x0000003C' }, 'LogonFailed', '0x3c'],
    [4771, {}, 'LogonFailed', undefined],
  ])('%i %j → %s %s', (id, data, action, reason) => {
    const row = identityRow(securityEvent(id, data));
    expect(row.values.ActionType).toBe(action);
    expect(row.values.FailureReason).toBe(reason);
  });
});

describe('logon events', () => {
  it.each([
    ['2', 'Interactive Logon'],
    ['3', 'Resource Access'],
    ['8', 'LDAP Cleartext'],
    ['10', 'Remote Desktop'],
    ['11', 'Logon type 11'],
  ])('LogonType %s → %s', (type, name) => {
    expect(identityRow(securityEvent(4624, { LogonType: type })).values.LogonType).toBe(name);
  });

  it.each([
    ['Kerberos', 'Kerberos'],
    ['NTLM', 'Ntlm'],
    ['Negotiate', 'Negotiate'],
    ['CloudAP', 'CloudAP'],
  ])('AuthenticationPackageName %s → Protocol %s', (pkg, protocol) => {
    expect(identityRow(securityEvent(4624, { AuthenticationPackageName: pkg })).values.Protocol).toBe(
      protocol,
    );
  });

  it('maps 8004 NTLM audit on a DC', () => {
    const event = securityEvent(
      8004,
      {
        SChannelName: 'FS1',
        UserName: 'erin',
        DomainName: 'CORP',
        WorkstationName: 'WS7',
        SChannelType: '2',
      },
      { channel: 'Microsoft-Windows-NTLM/Operational', provider: 'Microsoft-Windows-NTLM' },
    );
    expect(identityRow(event).values).toStrictEqual({
      Timestamp: time,
      ActionType: 'LogonSuccess',
      LogonType: 'Credentials Validation',
      Protocol: 'Ntlm',
      AccountName: 'erin',
      AccountDomain: 'CORP',
      DeviceName: 'WS7',
      DestinationDeviceName: dc,
      ReportId: `${dc}:Microsoft-Windows-NTLM/Operational:42`,
      AdditionalFields: { EventId: 8004, SChannelName: 'FS1', SChannelType: '2' },
    });
  });

  it('keeps a certificate issuer of PKINIT 4768 and the ticket fields as printed', () => {
    const row = identityRow(
      securityEvent(4768, {
        TargetUserName: 'frank',
        TargetDomainName: 'CORP.EXAMPLE',
        TargetSid: 'S-1-5-21-1-2-3-1105',
        ServiceName: 'krbtgt',
        TicketOptions: '0x40810010',
        Status: '0x0',
        TicketEncryptionType: '0x17',
        PreAuthType: '16',
        CertIssuerName: 'corp-CA',
      }),
    );
    expect(row.values.AccountSid).toBe('S-1-5-21-1-2-3-1105');
    expect(row.values.TargetAccountDisplayName).toBeUndefined();
    expect(extra(row)).toStrictEqual({
      EventId: 4768,
      KerberosRequest: 'AS',
      ServiceName: 'krbtgt',
      TicketEncryptionType: '0x17',
      TicketOptions: '0x40810010',
      PreAuthType: '16',
      Status: '0x0',
      CertIssuerName: 'corp-CA',
    });
  });
});

describe('directory events', () => {
  const subject = {
    SubjectUserSid: 'S-1-5-21-1-2-3-1000',
    SubjectUserName: 'admin',
    SubjectDomainName: 'CORP',
  };
  const actor = {
    AccountName: 'admin',
    AccountDomain: 'CORP',
    AccountSid: 'S-1-5-21-1-2-3-1000',
    DeviceName: dc,
  };

  it.each([
    ['sAMAccountName', '', 'SAM Account Name changed'],
    ['userPrincipalName', '', 'Account UPN Name changed'],
    ['sIDHistory', '', 'SID-History changed'],
    ['msDS-AllowedToActOnBehalfOfOtherIdentity', '', 'Account Delegation changed'],
    ['MSDS-ALLOWEDTODELEGATETO', '', 'Account Delegation changed'],
    ['userAccountControl', '524800', 'Account Delegation changed'], // 0x80000 TRUSTED_FOR_DELEGATION | 0x200
    ['userAccountControl', '16777728', 'Account Delegation changed'], // 0x1000000 TRUSTED_TO_AUTH_FOR_DELEGATION | 0x200
    ['userAccountControl', '512', 'Directory attribute changed'],
    ['msDS-SupportedEncryptionTypes', '', 'Account Supported Encryption Types changed'],
    ['member', '', 'Group Membership changed'],
    ['description', '', 'Directory attribute changed'],
  ])('5136 %s %s → %s', (attribute, value, action) => {
    const row = identityRow(
      securityEvent(5136, { AttributeLDAPDisplayName: attribute, AttributeValue: value }),
    );
    expect(row.values.ActionType).toBe(action);
  });

  it('5136 names the object by its first RDN, unescaped, and the operation', () => {
    const row = identityRow(
      securityEvent(5136, {
        ...subject,
        ObjectDN: 'CN=Doe\\, John\\2C Jr.,OU=Staff,DC=corp,DC=example',
        AttributeLDAPDisplayName: 'description',
        AttributeValue: 'x',
        OperationType: '%%14675',
      }),
    );
    expect(row.values).toMatchObject({ ...actor, TargetAccountDisplayName: 'Doe, John, Jr.' });
    expect(extra(row).OperationType).toBe('ValueDeleted');
    const unknown = identityRow(securityEvent(5136, { OperationType: '%%14999' }));
    expect(extra(unknown).OperationType).toBe('%%14999');
  });

  it.each([
    [5137, 'user', 'User Account Created'],
    [5137, 'computer', 'Computer Account Created'],
    [5137, 'groupPolicyContainer', 'Directory object created'],
    [5137, undefined, 'Directory object created'],
    [5141, 'user', 'Directory object deleted'],
  ])('%i ObjectClass %s → %s', (id, objectClass, action) => {
    const data: Record<string, string> = {
      ObjectDN: 'CN=svc1,CN=Users,DC=corp,DC=example',
      ObjectGUID: '{G}',
    };
    if (objectClass) data.ObjectClass = objectClass;
    const row = identityRow(securityEvent(id, data));
    expect(row.values.ActionType).toBe(action);
    expect(row.values.TargetAccountDisplayName).toBe('svc1');
    expect(extra(row)).toStrictEqual({ EventId: id, ...data });
  });

  it.each([
    [4725, 'Account Disabled changed', { Disabled: true }],
    [4722, 'Account Disabled changed', { Disabled: false }],
    [4723, 'Account Password changed', { Reset: false }],
    [4724, 'Account Password changed', { Reset: true }],
    [4740, 'Account Locked changed', { Locked: true }],
    [4767, 'Account Locked changed', { Locked: false }],
    [4726, 'Security Principal Deleted changed', {}],
    [4743, 'Security Principal Deleted changed', {}],
  ])('%i → %s %j', (id, action, flags) => {
    const row = identityRow(
      securityEvent(id, {
        ...subject,
        TargetUserName: 'gina',
        TargetDomainName: 'CORP',
        TargetSid: 'S-1-5-21-1-2-3-1200',
      }),
    );
    expect(row.values).toStrictEqual({
      Timestamp: time,
      ActionType: action,
      ...actor,
      TargetAccountDisplayName: 'gina',
      ReportId: `${dc}:Security:42`,
      AdditionalFields: { EventId: id, TargetSid: 'S-1-5-21-1-2-3-1200', TargetDomainName: 'CORP', ...flags },
    });
  });

  it('4738 carries every listed attribute, and a new SamAccountName makes it a rename', () => {
    const attrs = {
      Dummy: '-',
      TargetUserName: 'hal',
      SamAccountName: '-',
      UserPrincipalName: 'hal@corp.example',
      AllowedToDelegateTo: 'cifs/fs1.corp.example',
      OldUacValue: '0x210',
      NewUacValue: '0x1000210',
      UserAccountControl: '\r\n\t\t%%2098',
      SidHistory: '-',
    };
    const changed = identityRow(securityEvent(4738, attrs));
    expect(changed.values.ActionType).toBe('Directory attribute changed');
    expect(extra(changed)).toStrictEqual({
      EventId: 4738,
      UserPrincipalName: 'hal@corp.example',
      AllowedToDelegateTo: 'cifs/fs1.corp.example',
      OldUacValue: '0x210',
      NewUacValue: '0x1000210',
      UserAccountControl: '%%2098',
    });
    const renamed = identityRow(securityEvent(4738, { ...attrs, SamAccountName: 'hal2' }));
    expect(renamed.values.ActionType).toBe('SAM Account Name changed');
  });

  it('4766 failed SID History addition lists the source SID and the SidList SIDs', () => {
    const row = identityRow(
      securityEvent(4766, {
        SourceUserName: 'OLD\\ivan',
        SourceSid: 'S-1-5-21-9-9-9-1001',
        TargetUserName: 'ivan',
        SidList: '\r\n\t\t%{S-1-5-21-9-9-9-512}\r\n\t\t%{S-1-5-21-9-9-9-519}',
      }),
    );
    expect(row.values.ActionType).toBe('SID-History changed');
    expect(extra(row)).toStrictEqual({
      EventId: 4766,
      SidHistory: ['S-1-5-21-9-9-9-1001', 'S-1-5-21-9-9-9-512', 'S-1-5-21-9-9-9-519'],
      SourceUserName: 'OLD\\ivan',
      SourceSid: 'S-1-5-21-9-9-9-1001',
      Success: false,
    });
  });

  it('group removal names the member by its DN or, without one, by its SID', () => {
    const removed = identityRow(
      securityEvent(4729, {
        ...subject,
        MemberName: 'CN=Doe\\, Jane,OU=Staff,DC=corp,DC=example',
        MemberSid: 'S-1-5-21-1-2-3-1300',
        TargetUserName: 'Domain Admins',
        TargetDomainName: 'CORP',
        TargetSid: 'S-1-5-21-1-2-3-512',
      }),
    );
    expect(removed.values).toStrictEqual({
      Timestamp: time,
      ActionType: 'Group Membership changed',
      ...actor,
      TargetAccountDisplayName: 'Doe, Jane',
      ReportId: `${dc}:Security:42`,
      AdditionalFields: {
        EventId: 4729,
        'FROM.GROUP': 'Domain Admins',
        GroupName: 'Domain Admins',
        GroupDomain: 'CORP',
        GroupSid: 'S-1-5-21-1-2-3-512',
        MemberName: 'CN=Doe\\, Jane,OU=Staff,DC=corp,DC=example',
        MemberSid: 'S-1-5-21-1-2-3-1300',
        Action: 'Removed',
      },
    });
    for (const id of [4728, 4756, 4751, 4761, 4746]) {
      expect(extra(identityRow(securityEvent(id, { TargetUserName: 'g' }))).Action).toBe('Added');
    }
    for (const id of [4733, 4757, 4752, 4762, 4747]) {
      expect(extra(identityRow(securityEvent(id, { TargetUserName: 'g' })))['FROM.GROUP']).toBe('g');
    }
  });

  it('4697 service installed, from the Security log', () => {
    const row = identityRow(
      securityEvent(4697, {
        ...subject,
        ServiceName: 'evil',
        ServiceFileName: 'C:\\evil.exe',
        ServiceType: '0x10',
        ServiceStartType: '2',
        ServiceAccount: 'LocalSystem',
      }),
    );
    expect(row.values).toStrictEqual({
      Timestamp: time,
      ActionType: 'Service creation',
      ...actor,
      ReportId: `${dc}:Security:42`,
      AdditionalFields: {
        EventId: 4697,
        ServiceName: 'evil',
        ServiceFileName: 'C:\\evil.exe',
        ServiceType: '0x10',
        StartType: '2',
        ServiceAccount: 'LocalSystem',
      },
    });
  });

  it.each([
    [5827, 'Netlogon secure channel denied'],
    [5828, 'Netlogon secure channel denied'],
    [5829, 'Netlogon vulnerable secure channel allowed'],
  ])('NETLOGON %i → %s, with the insertion strings', (id, action) => {
    const event = securityEvent(
      id,
      { Data: ['WS9$', 'CORP', 'Workstation'] },
      { channel: 'System', provider: 'NETLOGON' },
    );
    expect(identityRow(event).values).toStrictEqual({
      Timestamp: time,
      ActionType: action,
      DeviceName: dc,
      ReportId: `${dc}:System:42`,
      AdditionalFields: { EventId: id, Data: ['WS9$', 'CORP', 'Workstation'] },
    });
  });
});

describe('query events', () => {
  it.each([
    ['SAM_USER', 'QueryUser'],
    ['SAM_GROUP', 'QueryGroup'],
    ['SAM_ALIAS', 'QueryAlias'],
    ['SAM_SERVER', 'QueryServer'],
    ['SAM_FOO', 'QuerySAM_FOO'],
  ])('4661 %s → %s', (type, queryType) => {
    const row = identityRow(
      securityEvent(4661, {
        ObjectServer: 'Security Account Manager',
        ObjectType: type,
        ObjectName: 'S-1-5-21-1-2-3-500',
      }),
    );
    expect(row.values).toMatchObject({
      ActionType: 'SAMR query',
      QueryType: queryType,
      QueryTarget: 'S-1-5-21-1-2-3-500',
    });
  });
});
