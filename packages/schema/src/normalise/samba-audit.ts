// Samba AD's JSON audit log → Identity rows with the contract the Windows normaliser uses (same
// ActionTypes, LogonTypes, FailureReasons and AdditionalFields keys), so the same detectors run on
// both, plus one PalisadeRawEvents row per record. Record layouts: Samba auth/auth_log.c
// (Authentication, Authorization), source4/dsdb/samdb/ldb_modules/audit_log.c (dsdbChange,
// passwordChange) and group_audit.c (groupChange).
import { DirectoryAction, LogonAction } from '../action-types.ts';
import type { Dynamic, RowValue, TableRow } from '../rows.ts';
import { ntstatusFailures } from './ntstatus.ts';
import {
  int,
  isObject,
  type JsonObject,
  recordHash,
  socketAddress,
  str,
  utcTimestamp,
} from './samba-fields.ts';
import { attributeChangeAction } from './windows-directory-events.ts';
import { firstRdnValue } from './windows-fields.ts';

type IdentityTable = 'IdentityLogonEvents' | 'IdentityDirectoryEvents';
type Values = Record<string, RowValue | undefined>;
interface Draft {
  readonly table: IdentityTable;
  readonly values: Values;
}
/** Makes the Identity rows of one record's body (the object under its type's name). */
type Builder = (body: JsonObject, source: string | undefined) => Draft[];

/** Samba's NT status names (`nt_errstr`) by NTSTATUS value (MS-ERREF §2.3.1), for FailureReason. */
export const sambaStatusCodes: Readonly<Record<string, number>> = {
  NT_STATUS_WRONG_PASSWORD: 0xc000006a,
  NT_STATUS_NO_SUCH_USER: 0xc0000064,
  NT_STATUS_ACCOUNT_LOCKED_OUT: 0xc0000234,
  NT_STATUS_ACCOUNT_DISABLED: 0xc0000072,
  NT_STATUS_INVALID_LOGON_HOURS: 0xc000006f,
  NT_STATUS_INVALID_WORKSTATION: 0xc0000070,
  NT_STATUS_PASSWORD_EXPIRED: 0xc0000071,
  NT_STATUS_ACCOUNT_EXPIRED: 0xc0000193,
  NT_STATUS_PASSWORD_MUST_CHANGE: 0xc0000224,
  NT_STATUS_LOGON_TYPE_NOT_GRANTED: 0xc000015b,
  NT_STATUS_LOGON_FAILURE: 0xc000006d,
};

/** The failure name of a Samba status, as the Windows normaliser names the same NTSTATUS; else the status text. */
export function sambaFailureReason(status: string): string {
  const code = Object.hasOwn(sambaStatusCodes, status) ? sambaStatusCodes[status] : undefined;
  return (code === undefined ? undefined : ntstatusFailures[code]) ?? status;
}

/** passwordType values of NTLM challenge–response logons (auth_log.c get_password_type). */
const ntlmPasswordTypes = new Set(['NTLMv1', 'NTLMv2', 'LANMan', 'MSCHAPv2', 'Supplied-NT-Hash']);

function logonProtocol(a: JsonObject): string | undefined {
  if (str(a, 'serviceDescription') === 'Kerberos KDC') return 'Kerberos';
  const auth = str(a, 'authDescription');
  if (auth?.startsWith('simple bind')) return 'Ldap';
  if (auth === 'NTLMSSP' || ntlmPasswordTypes.has(str(a, 'passwordType') ?? '')) return 'Ntlm';
  return undefined;
}

/**
 * The account a logon names: the NT4 name Samba mapped the client's name to, else the client's
 * name as sent (`user@REALM` split, a bind DN read as its first RDN), else the account it became
 * (`ANONYMOUS LOGON`).
 */
function logonAccount(a: JsonObject): Values {
  const mapped = str(a, 'mappedAccount');
  if (mapped) return { AccountName: mapped, AccountDomain: str(a, 'mappedDomain') };
  const client = str(a, 'clientAccount');
  if (client?.includes('='))
    return { AccountName: firstRdnValue(client), AccountDomain: str(a, 'clientDomain') };
  const at = client?.lastIndexOf('@') ?? -1;
  if (client && at > 0) {
    return {
      AccountName: client.slice(0, at),
      AccountDomain: str(a, 'clientDomain') ?? client.slice(at + 1),
    };
  }
  if (client) return { AccountName: client, AccountDomain: str(a, 'clientDomain') };
  return { AccountName: str(a, 'becameAccount'), AccountDomain: str(a, 'becameDomain') };
}

/**
 * The KDC's authDescription, `<pa-type> Pre-authentication` with Heimdal's padata names
 * (kdc/kerberos5.c), or `Unknown Pre-authentication` when the request carried none
 * (kdc/hdb-samba4.c), as the padata-type number 4768 logs in PreAuthType (RFC 4120 §7.5.2,
 * RFC 4556, RFC 6113; 0 for none).
 */
const preAuthTypes: Readonly<Record<string, string>> = {
  'ENC-TS Pre-authentication': '2',
  'PK-INIT(win2k) Pre-authentication': '15',
  'PK-INIT(ietf) Pre-authentication': '16',
  'ENC-CHAL Pre-authentication': '138',
  'Unknown Pre-authentication': '0',
};

// Authentication: one password, hash or pre-authentication check by the DC (NTLM, simple bind,
// the KDC's AS exchange). Samba's KDC audits only the AS exchange (a TGS request leaves no
// record), so every KDC record is KerberosRequest AS; it does not log the requested service.
const authentication: Builder = (a, source) => {
  const status = str(a, 'status');
  if (status === undefined) return [];
  const ok = status === 'NT_STATUS_OK';
  const kdc = str(a, 'serviceDescription') === 'Kerberos KDC';
  // A simple bind logs the DC's own NetBIOS name as workstation (auth_simple.c), not the client's.
  const simpleBind = str(a, 'authDescription')?.startsWith('simple bind') === true;
  const workstation = str(a, 'workstation');
  const remote = socketAddress(str(a, 'remoteAddress'));
  const local = socketAddress(str(a, 'localAddress'));
  return [
    {
      table: 'IdentityLogonEvents',
      values: {
        ActionType: ok ? LogonAction.success : LogonAction.failure,
        LogonType: simpleBind ? 'LDAP Cleartext' : 'Credentials Validation',
        Protocol: logonProtocol(a),
        FailureReason: ok ? undefined : sambaFailureReason(status),
        ...logonAccount(a),
        AccountSid: str(a, 'becameSid'),
        DeviceName: simpleBind ? undefined : workstation,
        IPAddress: remote.ip,
        Port: remote.port,
        DestinationDeviceName: source ?? (simpleBind ? workstation : undefined),
        DestinationIPAddress: local.ip,
        DestinationPort: local.port,
        AdditionalFields: fields({
          EventId: int(a, 'eventId'),
          SambaType: 'Authentication',
          status,
          serviceDescription: str(a, 'serviceDescription'),
          authDescription: str(a, 'authDescription'),
          passwordType: str(a, 'passwordType'),
          clientAccount: str(a, 'clientAccount'),
          KerberosRequest: kdc ? 'AS' : undefined,
          PreAuthType: kdc ? lookup(preAuthTypes, str(a, 'authDescription')) : undefined,
        }),
      },
    },
  ];
};

// Authorization: a session set up for an already authenticated user. Only a Kerberos service
// ticket (authType krb5) is an authentication decision with no Authentication record of its
// own; for NTLM and simple binds the Authentication record already made the row.
const authorization: Builder = (z, source) => {
  if (str(z, 'authType') !== 'krb5') return [];
  const remote = socketAddress(str(z, 'remoteAddress'));
  const local = socketAddress(str(z, 'localAddress'));
  return [
    {
      table: 'IdentityLogonEvents',
      values: {
        ActionType: LogonAction.success,
        LogonType: 'Resource Access',
        Protocol: 'Kerberos',
        AccountName: str(z, 'account'),
        AccountDomain: str(z, 'domain'),
        AccountSid: str(z, 'sid'),
        IPAddress: remote.ip,
        Port: remote.port,
        DestinationDeviceName: source ?? str(z, 'logonServer'),
        DestinationIPAddress: local.ip,
        DestinationPort: local.port,
        AdditionalFields: fields({
          SambaType: 'Authorization',
          serviceDescription: str(z, 'serviceDescription'),
          authType: 'krb5',
          transportProtection: str(z, 'transportProtection'),
          sessionId: str(z, 'sessionId'),
        }),
      },
    },
  ];
};

/** The acting session of a directory record, on the DC that logged it. */
function actor(body: JsonObject, source: string | undefined): Values {
  const remote = socketAddress(str(body, 'remoteAddress'));
  return { AccountSid: str(body, 'userSid'), DeviceName: source, IPAddress: remote.ip, Port: remote.port };
}

function session(body: JsonObject) {
  return { sessionId: str(body, 'sessionId'), transactionId: str(body, 'transactionId') };
}

function succeeded(body: JsonObject): boolean {
  return int(body, 'statusCode') === 0;
}

// groupChange: Added/Removed (with the Windows event id of the group's type) and PrimaryGroup
// (no event id). For a new user Samba logs PrimaryGroup naming the group, then an Added record
// whose group is the user's own DN (group_audit.c log_new_user_added_to_primary_group reads the
// request's DN for both); that Added record names no group and makes no row.
const groupChange: Builder = (g, source) => {
  const action = str(g, 'action');
  const group = str(g, 'group');
  const user = str(g, 'user');
  if (!succeeded(g) || group === undefined || user === undefined) return [];
  if (action !== 'Added' && action !== 'Removed' && action !== 'PrimaryGroup') return [];
  if (action === 'Added' && group.toLowerCase() === user.toLowerCase()) return [];
  const groupName = firstRdnValue(group);
  const direction = action === 'Added' ? 'TO.GROUP' : action === 'Removed' ? 'FROM.GROUP' : undefined;
  return [
    {
      table: 'IdentityDirectoryEvents',
      values: {
        ActionType: DirectoryAction.groupMembership,
        ...actor(g, source),
        TargetAccountDisplayName: firstRdnValue(user),
        AdditionalFields: fields({
          EventId: int(g, 'eventId'),
          SambaType: 'groupChange',
          ...(direction ? { [direction]: groupName } : {}),
          GroupName: groupName,
          GroupDN: group,
          MemberName: user,
          Action: action,
          ...session(g),
        }),
      },
    },
  ];
};

// passwordChange: Change (4723, the user's own) or Reset (4724, by another account).
const passwordChange: Builder = (p, source) => {
  if (!succeeded(p)) return [];
  const action = str(p, 'action');
  const dn = str(p, 'dn');
  return [
    {
      table: 'IdentityDirectoryEvents',
      values: {
        ActionType: DirectoryAction.passwordChanged,
        ...actor(p, source),
        TargetAccountDisplayName: firstRdnValue(dn),
        AdditionalFields: fields({
          EventId: int(p, 'eventId'),
          SambaType: 'passwordChange',
          Reset: action === undefined ? undefined : action === 'Reset',
          ObjectDN: dn,
          ...session(p),
        }),
      },
    },
  ];
};

/** Password attributes: their changes are passwordChange records (audit_log.c), not attribute changes. */
const passwordAttributes = new Set(['userpassword', 'cleartextpassword', 'unicodepwd', 'dbcspwd']);
/** Logon bookkeeping the DC writes on every logon: not directory changes anyone hunts; the raw row keeps them. */
const bookkeepingAttributes = new Set([
  'lastlogon',
  'lastlogontimestamp',
  'logoncount',
  'badpwdcount',
  'badpasswordtime',
  'lastlogoff',
]);

/** Samba's modification actions by the OperationType names the Windows normaliser writes. */
const operationTypes: Readonly<Record<string, string>> = {
  add: 'ValueAdded',
  delete: 'ValueDeleted',
  replace: 'Replace',
};

function lookup(table: Readonly<Record<string, string>>, key: string | undefined): string | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

interface Modification {
  readonly operation: string | undefined;
  /** The values, absent when Samba redacted them (secret attributes). */
  readonly values: string[] | undefined;
}

/** The actions of one attribute: `{ actions: [{ action, values: [{ value }], redacted }] }`. */
function modifications(attribute: Dynamic | undefined): Modification[] {
  if (!isObject(attribute) || !Array.isArray(attribute.actions)) return [];
  return attribute.actions.filter(isObject).map((a) => ({
    operation: str(a, 'action'),
    values:
      a.redacted === true || !Array.isArray(a.values)
        ? undefined
        : a.values.map((v) => (isObject(v) && typeof v.value === 'string' ? v.value : '')),
  }));
}

// dsdbChange: one LDB operation. Add is an object created (5137), Delete one deleted (5141);
// Modify makes one row per attribute and action, like the 5136 events of the change.
const dsdbChange: Builder = (d, source) => {
  if (!succeeded(d)) return [];
  const operation = str(d, 'operation');
  const dn = str(d, 'dn');
  const attributes = isObject(d.attributes) ? d.attributes : {};
  const row = (values: Values, extra: Record<string, Dynamic | undefined>): Draft => ({
    table: 'IdentityDirectoryEvents',
    values: {
      ...values,
      ...actor(d, source),
      TargetAccountDisplayName: firstRdnValue(dn),
      AdditionalFields: fields({
        ...extra,
        SambaType: 'dsdbChange',
        SambaOperation: operation,
        ObjectDN: dn,
        ...session(d),
      }),
    },
  });
  if (operation === 'Add') {
    const classes = modifications(attributes.objectClass).flatMap((a) => a.values ?? []);
    const lower = classes.map((c) => c.toLowerCase());
    const objectClass = lower.includes('computer')
      ? 'computer'
      : lower.includes('user')
        ? 'user'
        : classes.at(-1);
    const action =
      objectClass === 'computer'
        ? DirectoryAction.computerCreated
        : objectClass === 'user'
          ? DirectoryAction.userCreated
          : DirectoryAction.objectCreated;
    return [row({ ActionType: action }, { EventId: 5137, ObjectClass: objectClass })];
  }
  if (operation === 'Delete') return [row({ ActionType: DirectoryAction.objectDeleted }, { EventId: 5141 })];
  if (operation !== 'Modify') return [];
  const rows: Draft[] = [];
  for (const [attribute, spec] of Object.entries(attributes)) {
    const name = attribute.toLowerCase();
    if (passwordAttributes.has(name) || bookkeepingAttributes.has(name)) continue;
    for (const { operation: op, values } of modifications(spec)) {
      rows.push(
        row(
          { ActionType: attributeChangeAction(attribute, values ?? []) },
          {
            EventId: 5136,
            AttributeLDAPDisplayName: attribute,
            AttributeValue: values?.join('; '),
            OperationType: lookup(operationTypes, op) ?? op,
            Redacted: values === undefined ? true : undefined,
          },
        ),
      );
    }
  }
  return rows;
};

/** Builders by the record's `type`; other types (dsdbTransaction, replicatedUpdate…) make only the raw row. */
const builders: Readonly<Record<string, Builder>> = {
  Authentication: authentication,
  Authorization: authorization,
  groupChange,
  passwordChange,
  dsdbChange,
};

/** The Samba audit record types that can make Identity rows. */
export const sambaAuditTypes: readonly string[] = Object.keys(builders);

/**
 * Normalises one parsed record of Samba's JSON audit log: the Identity rows it describes (none
 * for odd or unknown records) and always one PalisadeRawEvents row, sharing a ReportId. `source`
 * names the DC that wrote the log; `text`, the record's JSON as read, is what the ReportId
 * hashes (the record serialised again when absent). Never throws.
 *
 * @example
 * const rows = normaliseSambaAudit(JSON.parse(line), 'dc1.corp.example');
 */
export function normaliseSambaAudit(line: unknown, source?: string, text?: string): TableRow[] {
  const record = isObject(line) ? line : undefined;
  const type = record ? str(record, 'type') : undefined;
  const body =
    record && type !== undefined && isObject(record[type]) ? (record[type] as JsonObject) : undefined;
  const timestamp = record ? utcTimestamp(str(record, 'timestamp')) : undefined;
  // The ReportId hashes the record's text as the log holds it when the caller has it (reading a
  // log: no second serialisation per record), else the record serialised.
  const hashed = text ?? jsonText(line);
  const reportId = hashed === undefined ? undefined : `samba:${recordHash(hashed)}`;
  const rows: TableRow[] = [];
  const build = type !== undefined && Object.hasOwn(builders, type) ? builders[type] : undefined;
  if (build && body && timestamp !== undefined) {
    for (const draft of build(body, source)) {
      rows.push({
        table: draft.table,
        values: defined({ Timestamp: timestamp, ...draft.values, ReportId: reportId }),
      });
    }
  }
  rows.push({
    table: 'PalisadeRawEvents',
    values: defined({
      Timestamp: timestamp,
      Source: 'samba-audit',
      DeviceName: source,
      Channel: type,
      Provider: 'Samba',
      EventId: (body && int(body, 'eventId')) ?? 0,
      ReportId: reportId,
      Data: hashed === undefined ? null : (line as Dynamic),
    }),
  });
  return rows;
}

/** The JSON text of a value, or undefined for what JSON cannot hold (cycles, BigInt, functions). */
function jsonText(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

/** An AdditionalFields object without its absent entries. */
function fields(entries: Record<string, Dynamic | undefined>): { [key: string]: Dynamic } {
  const out: { [key: string]: Dynamic } = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v;
  return out;
}

function defined(values: Values): Record<string, RowValue> {
  const out: Record<string, RowValue> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = v;
  return out;
}

/** One line of a Samba audit log that could not be read. */
export interface SambaLineProblem {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** What was expected and what was found. */
  readonly message: string;
}

// Samba's debug-log header line, `[2026/11/21 22:27:08.712832,  3] ../../auth/auth_log.c:…`; the
// JSON follows on its own line.
const debugHeader = /^\[\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/;
// A syslog prefix names the host that logged: RFC 3164 `Nov 21 22:27:08 dc1 samba[…]:`, or an
// ISO timestamp as RFC 5424 (`<13>1 2026-… dc1 …`) and rsyslog's precise format write it.
const syslogPrefix =
  /^(?:<\d{1,3}>\d? ?)?(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) (\S+) /;

type ParsedLine =
  | { readonly kind: 'skip' }
  | {
      readonly kind: 'record';
      readonly record: JsonObject;
      readonly host: string | undefined;
      /** The record's JSON as the log holds it. */
      readonly text: string;
    }
  | { readonly kind: 'problem'; readonly message: string };

/** One line of a log: blank and debug-header lines are skipped; anything else holds a JSON object or is a problem. */
function parseLine(raw: string): ParsedLine {
  const line = raw.trim();
  if (line === '' || debugHeader.test(line)) return { kind: 'skip' };
  const brace = line.indexOf('{');
  if (brace < 0) return { kind: 'problem', message: `expected a JSON audit record, found ${quote(line)}` };
  const json = line.slice(brace);
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch (e) {
    return {
      kind: 'problem',
      message: `expected a JSON object, found ${quote(json)} (${e instanceof Error ? e.message : String(e)})`,
    };
  }
  if (!isObject(record)) return { kind: 'problem', message: `expected a JSON object, found ${quote(json)}` };
  return { kind: 'record', record, host: syslogPrefix.exec(line.slice(0, brace))?.[1], text: json };
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}

/**
 * Reads a Samba JSON audit log: one record per line, as Samba writes it to its per-class log
 * files, or after a syslog or debug-log prefix. Blank lines and Samba's debug header lines are
 * skipped; other lines without a JSON object are problems. A syslog prefix's host is the DC when
 * `source` is not given. `records` counts the records read (one raw row each).
 */
export function readSambaAuditLines(
  text: string,
  file: string,
  source?: string,
): { rows: TableRow[]; problems: SambaLineProblem[]; records: number } {
  const rows: TableRow[] = [];
  const problems: SambaLineProblem[] = [];
  let records = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const parsed = parseLine(lines[i] as string);
    if (parsed.kind === 'problem') problems.push({ file, line: i + 1, message: parsed.message });
    if (parsed.kind !== 'record') continue;
    records++;
    rows.push(...normaliseSambaAudit(parsed.record, source ?? parsed.host, parsed.text));
  }
  return { rows, problems, records };
}

/**
 * Whether a text looks like a Samba JSON audit log: its first record-bearing line (within the
 * first 20 lines) holds an object with a `timestamp` and a `type` naming an object of that name.
 */
export function isSambaAuditText(text: string): boolean {
  const lines = text.split('\n', 20);
  for (const raw of lines) {
    const parsed = parseLine(raw);
    if (parsed.kind === 'skip') continue;
    if (parsed.kind === 'problem') return false;
    const type = str(parsed.record, 'type');
    return (
      type !== undefined && str(parsed.record, 'timestamp') !== undefined && isObject(parsed.record[type])
    );
  }
  return false;
}
