// The Samba audit reader and normaliser on made-up input: log-line prefixes, bad lines, missing
// or oddly typed fields, other offsets and address forms, and the record kinds the lab run lacks.
// Inputs follow the layouts Samba's audit code writes (auth/auth_log.c, audit_log.c,
// group_audit.c, lib/audit_logging); expected values are worked out by hand.
import { describe, expect, it } from 'vitest';
import { isSambaAuditText, normaliseSambaAudit, readSambaAuditLines } from '../src/normalise/samba-audit.ts';
import { checkRow, type TableRow } from '../src/rows.ts';

const sid = 'S-1-5-21-1-2-3-500';

function record(type: string, body: Record<string, unknown>, timestamp = '2026-01-01T10:00:00.000001+0000') {
  return { timestamp, type, [type]: body };
}

/** The rows of one record, each checked; Identity rows first, the raw row last. */
function rows(line: unknown, source?: string): { identity: TableRow[]; raw: TableRow } {
  const all = normaliseSambaAudit(line, source);
  for (const row of all) expect(checkRow(row)).toEqual([]);
  const raw = all.at(-1) as TableRow;
  expect(raw.table).toBe('PalisadeRawEvents');
  return { identity: all.slice(0, -1), raw };
}

function additional(row: TableRow | undefined): unknown {
  return row?.values.AdditionalFields;
}

describe('readSambaAuditLines', () => {
  const json = (type: string, body: Record<string, unknown>) => JSON.stringify(record(type, body));
  const password = json('passwordChange', {
    eventId: 4724,
    statusCode: 0,
    action: 'Reset',
    userSid: sid,
    dn: 'CN=bob,CN=Users,DC=x',
  });
  const text = [
    // Samba's debug log: a header line, then the JSON indented on its own line.
    '[2026/01/01 10:00:00.000001,  5] ../../source4/dsdb/samdb/ldb_modules/audit_log.c:1234(log_password_change)',
    `  ${password}`,
    // syslog (RFC 3164), naming the host.
    `Jan  1 10:00:00 dc1 samba[4242]: ${password}`,
    '',
    'garbage',
    '{"timestamp": "2026-01-01T10:00:00.000001+0000", "type": ',
    // syslog (RFC 5424), with a CRLF line end.
    `<13>1 2026-01-01T10:00:00.000001+00:00 dc2.corp.example samba 4242 - - ${password}\r`,
    'prefix: {} trailing',
    '[1, 2, 3]',
  ].join('\n');
  const result = readSambaAuditLines(text, 'audit.log');

  it('reads JSON after a debug-log, syslog or no prefix, taking the syslog host as the DC', () => {
    const raw = result.rows.filter((r) => r.table === 'PalisadeRawEvents');
    expect(raw.map((r) => r.values.DeviceName)).toEqual([undefined, 'dc1', 'dc2.corp.example']);
    const identity = result.rows.filter((r) => r.table === 'IdentityDirectoryEvents');
    expect(
      identity.map((r) => [r.values.ActionType, r.values.TargetAccountDisplayName, r.values.DeviceName]),
    ).toEqual([
      ['Account Password changed', 'bob', undefined],
      ['Account Password changed', 'bob', 'dc1'],
      ['Account Password changed', 'bob', 'dc2.corp.example'],
    ]);
  });

  it('reports each bad line with its number and what it found', () => {
    expect(result.records).toBe(3);
    expect(result.problems.map((p) => [p.file, p.line])).toEqual([
      ['audit.log', 5],
      ['audit.log', 6],
      ['audit.log', 8],
      ['audit.log', 9],
    ]);
    expect(result.problems[0]?.message).toBe('expected a JSON audit record, found "garbage"');
    expect(result.problems[1]?.message).toMatch(/^expected a JSON object, found "\{\\"timestamp/);
    expect(result.problems[2]?.message).toMatch(/^expected a JSON object, found "\{\} trailing" \(/);
    expect(result.problems[3]?.message).toBe('expected a JSON audit record, found "[1, 2, 3]"');
  });

  it('prefers the source it is given over a syslog host', () => {
    const given = readSambaAuditLines(`Jan  1 10:00:00 dc1 samba[4242]: ${password}`, 'x', 'dc9');
    expect(given.rows.map((r) => r.values.DeviceName)).toEqual(['dc9', 'dc9']);
  });
});

describe('isSambaAuditText', () => {
  const line = JSON.stringify(record('Authorization', { authType: 'krb5' }));
  it.each([
    [line, true],
    [`\n[2026/01/01 10:00:00.000001,  5] ../../auth/auth_log.c:1(x)\n  ${line}`, true],
    [`Jan  1 10:00:00 dc1 samba[1]: ${line}`, true],
    ['{"Event": {"System": {"EventID": 4624}}}', false],
    ['[{"timestamp": "x", "type": "a", "a": {}}]', false],
    ['{"timestamp": "2026-01-01T10:00:00+0000", "type": "Authorization"}', false],
    ['', false],
  ])('%j → %s', (text, expected) => {
    expect(isSambaAuditText(text)).toBe(expected);
  });
});

describe('normaliseSambaAudit on odd input', () => {
  it.each([null, 42, 'text', [], {}])('makes only a raw row from %j', (line) => {
    const { identity, raw } = rows(line);
    expect(identity).toEqual([]);
    expect(raw.values.EventId).toBe(0);
    expect(raw.values.Data).toEqual(line);
    expect(raw.values.Timestamp).toBeUndefined();
  });

  it('makes only a raw row from a type it does not know', () => {
    const line = record('dsdbTransaction', { action: 'commit', transactionId: 'x' });
    const { identity, raw } = rows(line, 'dc1');
    expect(identity).toEqual([]);
    expect(raw.values).toMatchObject({
      Channel: 'dsdbTransaction',
      DeviceName: 'dc1',
      Timestamp: '2026-01-01T10:00:00.000001Z',
    });
  });

  it('makes no Identity row without a readable timestamp', () => {
    const line = {
      ...record('Authentication', { status: 'NT_STATUS_OK' }),
      timestamp: 'Tue, 14 Mar 2017 08:38:42',
    };
    expect(rows(line).identity).toEqual([]);
  });

  it('does not throw on a value JSON cannot hold', () => {
    const line: Record<string, unknown> = record('Authentication', { status: 'NT_STATUS_OK' });
    line.self = line;
    const { raw } = rows(line);
    expect(raw.values.Data).toBeNull();
    expect(raw.values.ReportId).toBeUndefined();
  });

  it('reads an Authentication record with most fields missing or mistyped', () => {
    const { identity } = rows(
      record('Authentication', {
        status: 'NT_STATUS_ACCOUNT_LOCKED_OUT',
        eventId: '4625',
        remoteAddress: 42,
        clientAccount: 'CN=Bob Smith,OU=Staff,DC=corp,DC=example',
      }),
    );
    // 0xC0000234 STATUS_ACCOUNT_LOCKED_OUT; a bind DN names its first RDN.
    expect(identity).toEqual([
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: '2026-01-01T10:00:00.000001Z',
          ActionType: 'LogonFailed',
          LogonType: 'Credentials Validation',
          FailureReason: 'AccountLocked',
          AccountName: 'Bob Smith',
          ReportId: expect.stringMatching(/^samba:/),
          AdditionalFields: {
            SambaType: 'Authentication',
            status: 'NT_STATUS_ACCOUNT_LOCKED_OUT',
            clientAccount: 'CN=Bob Smith,OU=Staff,DC=corp,DC=example',
          },
        },
      },
    ]);
  });

  it('keeps a status it has no name for as the reason, and reads IPv6 addresses and other offsets', () => {
    const { identity } = rows(
      record(
        'Authentication',
        {
          status: 'NT_STATUS_FOO',
          remoteAddress: 'ipv6:fd00::20:51234',
          serviceDescription: 'SamLogon',
          passwordType: 'NTLMv1',
        },
        '2026-01-01T20:00:00.5-0500',
      ),
    );
    expect(identity[0]?.values).toMatchObject({
      Timestamp: '2026-01-02T01:00:00.5Z',
      FailureReason: 'NT_STATUS_FOO',
      Protocol: 'Ntlm',
      IPAddress: 'fd00::20',
      Port: 51234,
    });
  });

  it('converts a timestamp east of UTC', () => {
    const { raw } = rows(record('dsdbTransaction', {}, '2017-03-06T17:18:04.455081+1300'));
    expect(raw.values.Timestamp).toBe('2017-03-06T04:18:04.455081Z');
  });
});

describe('normaliseSambaAudit on record kinds the lab run lacks', () => {
  const change = (body: Record<string, unknown>) =>
    rows(
      record('dsdbChange', {
        statusCode: 0,
        userSid: sid,
        dn: 'CN=web01,CN=Computers,DC=corp,DC=example',
        ...body,
      }),
    );

  it('reads a member removed from a group', () => {
    const { identity } = rows(
      record('groupChange', {
        eventId: 4729,
        statusCode: 0,
        action: 'Removed',
        userSid: sid,
        group: 'CN=Backup Operators,CN=Builtin,DC=corp,DC=example',
        user: 'CN=bob,CN=Users,DC=corp,DC=example',
      }),
    );
    expect(identity[0]?.values.TargetAccountDisplayName).toBe('bob');
    expect(additional(identity[0])).toMatchObject({
      EventId: 4729,
      'FROM.GROUP': 'Backup Operators',
      GroupName: 'Backup Operators',
      Action: 'Removed',
    });
  });

  it('makes no Identity row for a change that failed', () => {
    const failed = { statusCode: 50, status: 'Insufficient access rights' };
    expect(
      rows(record('groupChange', { ...failed, action: 'Added', group: 'CN=a', user: 'CN=b' })).identity,
    ).toEqual([]);
    expect(rows(record('passwordChange', { ...failed, action: 'Reset', dn: 'CN=b' })).identity).toEqual([]);
    expect(change({ ...failed, statusCode: 50, operation: 'Delete' }).identity).toEqual([]);
  });

  it('reads a computer created and an object deleted', () => {
    const created = change({
      operation: 'Add',
      attributes: {
        objectClass: { actions: [{ action: 'add', values: [{ value: 'top' }, { value: 'computer' }] }] },
      },
    });
    expect(created.identity[0]?.values.ActionType).toBe('Computer Account Created');
    expect(additional(created.identity[0])).toMatchObject({ EventId: 5137, ObjectClass: 'computer' });
    const deleted = change({ operation: 'Delete' });
    expect(deleted.identity[0]?.values.ActionType).toBe('Directory object deleted');
    expect(additional(deleted.identity[0])).toMatchObject({
      EventId: 5141,
      ObjectDN: 'CN=web01,CN=Computers,DC=corp,DC=example',
    });
  });

  it('names the attribute changes detectors look for', () => {
    const { identity } = change({
      operation: 'Modify',
      attributes: {
        sAMAccountName: { actions: [{ action: 'replace', values: [{ value: 'dc01$' }] }] },
        'msDS-AllowedToActOnBehalfOfOtherIdentity': {
          actions: [{ action: 'replace', values: [{ value: 'AQAEgBQAAAA=', base64: true }] }],
        },
        // 524800 = 0x80200: TRUSTED_FOR_DELEGATION | NORMAL_ACCOUNT.
        userAccountControl: { actions: [{ action: 'replace', values: [{ value: '524800' }] }] },
        sIDHistory: { actions: [{ action: 'add', values: [{ value: 'S-1-5-21-9-9-9-512' }] }] },
        trustAuthIncoming: { actions: [{ action: 'replace', redacted: true }] },
        badPwdCount: { actions: [{ action: 'replace', values: [{ value: '1' }] }] },
      },
    });
    expect(identity.map((r) => r.values.ActionType)).toEqual([
      'SAM Account Name changed',
      'Account Delegation changed',
      'Account Delegation changed',
      'SID-History changed',
      'Directory attribute changed',
    ]);
    expect(additional(identity[1])).toMatchObject({
      AttributeValue: 'AQAEgBQAAAA=',
      OperationType: 'Replace',
    });
    expect(additional(identity[4])).toMatchObject({
      AttributeLDAPDisplayName: 'trustAuthIncoming',
      Redacted: true,
    });
    expect(additional(identity[4])).not.toHaveProperty('AttributeValue');
  });
});
