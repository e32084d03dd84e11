// The directory as the sync reads it over LDAP: connect (LDAPS with a CA file, or StartTLS),
// simple bind with the directory service account, identify the domain controller from its
// rootDSE, and read users, computers and groups with the simple paged results control
// (RFC 2696), following ranged `member` values (MS-ADTS §3.1.1.3.1.3.3) on large groups.
// Every failure becomes a DirectoryError whose code is the health issue the source reports.
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { Client, type Entry, InvalidCredentialsError, ResultCodeError } from 'ldapts';
import { decodeGuid, decodeSid, dnsDomainOfDn, escapeFilterValue } from './directory-identifiers.ts';
import type { DirectoryObject } from './directory-membership.ts';

export const directoryErrorCodes = [
  'directory/unreachable',
  'directory/tls-failed',
  'directory/bind-failed',
  'directory/search-failed',
] as const;
export type DirectoryErrorCode = (typeof directoryErrorCodes)[number];

/** A failure talking to the directory; `code` is the health issue it becomes. */
export class DirectoryError extends Error {
  readonly code: DirectoryErrorCode;
  constructor(code: DirectoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DirectoryError';
    this.code = code;
  }
}

/** How to reach and bind to the directory. */
export interface DirectoryConnectionOptions {
  /** `ldap://host[:port]` or `ldaps://host[:port]`. */
  readonly url: string;
  /** The directory service account: a DN, a user principal name or `DOMAIN\name`. */
  readonly bindDn: string;
  readonly password: string;
  /** Upgrade an `ldap://` connection with StartTLS (RFC 4511 §4.14) before binding. */
  readonly startTls?: boolean;
  /** PEM file of the CA that signed the DC's certificate (default: the system's CAs). */
  readonly caFile?: string;
  /** The name the DC's certificate is checked against, when the URL holds an address. */
  readonly tlsServerName?: string;
  /** The naming context to read (default: the DC's defaultNamingContext). */
  readonly baseDn?: string;
  readonly timeoutMs?: number;
  readonly pageSize?: number;
}

/** Which domain controller answered, and how far its changes go. */
export interface DirectoryIdentity {
  /** invocationId of the DC's NTDS Settings object: changes when the DC or its database does. */
  readonly invocationId: string;
  readonly dnsHostName: string;
  readonly highestCommittedUsn: number;
  readonly baseDn: string;
  readonly domain: string;
}

/** An open, bound connection to one domain controller. */
export interface DirectoryReader {
  readonly identity: DirectoryIdentity;
  /** Every group of the naming context. */
  groups(): Promise<DirectoryObject[]>;
  /** Users and computers matching an extra filter (an LDAP filter, or '' for all). */
  accounts(filter: string): Promise<DirectoryObject[]>;
  close(): Promise<void>;
}

const accountAttributes = [
  'objectClass',
  'objectGUID',
  'objectSid',
  'cn',
  'sAMAccountName',
  'userPrincipalName',
  'displayName',
  'givenName',
  'sn',
  'department',
  'title',
  'mail',
  'streetAddress',
  'l',
  'co',
  'c',
  'manager',
  'telephoneNumber',
  'company',
  'employeeID',
  'userAccountControl',
  'msDS-User-Account-Control-Computed',
  'servicePrincipalName',
  'adminCount',
  'primaryGroupID',
  'memberOf',
  'whenCreated',
  'whenChanged',
  'uSNCreated',
  'uSNChanged',
  'pwdLastSet',
  'lastLogonTimestamp',
  'msDS-AllowedToDelegateTo',
  'msDS-SupportedEncryptionTypes',
  'dNSHostName',
  'operatingSystem',
];
const groupAttributes = [
  'objectClass',
  'objectGUID',
  'objectSid',
  'cn',
  'sAMAccountName',
  'member',
  'groupType',
  'adminCount',
  'whenCreated',
  'whenChanged',
  'uSNCreated',
  'uSNChanged',
];
const binary = ['objectGUID', 'objectSid', 'invocationId'];

// Socket and TLS failures that mean "nothing usable answered at that address".
const tlsCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${code}: ${error.message}`
    : error.message;
}

/** Maps a failure while connecting or binding to its health issue. */
function connectError(error: unknown, url: string, stage: 'connect' | 'bind'): DirectoryError {
  if (error instanceof DirectoryError) return error;
  const text = describeError(error);
  if (error instanceof InvalidCredentialsError)
    return new DirectoryError('directory/bind-failed', `${url} refused the credentials: ${text}`, {
      cause: error,
    });
  if (error instanceof ResultCodeError)
    return new DirectoryError(
      'directory/bind-failed',
      `${url} refused the bind (result ${error.code}): ${text}`,
      {
        cause: error,
      },
    );
  const code = String((error as { code?: unknown }).code ?? '');
  if (tlsCodes.test(code) || /certificate|tls|ssl/i.test(text))
    return new DirectoryError('directory/tls-failed', `TLS with ${url} failed: ${text}`, { cause: error });
  return new DirectoryError('directory/unreachable', `cannot ${stage} to ${url}: ${text}`, { cause: error });
}

/**
 * Connects, binds and reads the rootDSE; rejects with a DirectoryError. Closing the reader (or
 * aborting `signal`) ends the connection.
 */
export async function openDirectory(
  options: DirectoryConnectionOptions,
  signal: AbortSignal,
): Promise<DirectoryReader> {
  const timeout = options.timeoutMs ?? 30_000;
  let tls: ConnectionOptions | undefined;
  if (options.caFile !== undefined || options.tlsServerName !== undefined) {
    let ca: Buffer | undefined;
    if (options.caFile !== undefined) {
      try {
        ca = await readFile(options.caFile);
      } catch (error) {
        throw new DirectoryError(
          'directory/tls-failed',
          `cannot read the CA file ${options.caFile}: ${describeError(error)}`,
          {
            cause: error,
          },
        );
      }
    }
    tls = {
      ...(ca ? { ca } : {}),
      ...(options.tlsServerName !== undefined ? { servername: options.tlsServerName } : {}),
    };
  }
  const client = new Client({
    url: options.url,
    timeout,
    connectTimeout: timeout,
    ...(tls && options.url.startsWith('ldaps:') ? { tlsOptions: tls } : {}),
  });
  const close = () => client.unbind().catch(() => undefined);
  signal.addEventListener('abort', close, { once: true });
  const closeReader = async () => {
    signal.removeEventListener('abort', close);
    await close();
  };
  try {
    if (options.startTls) {
      try {
        await client.startTLS(tls ?? {});
      } catch (error) {
        throw connectError(error, options.url, 'connect');
      }
    }
    try {
      await client.bind(options.bindDn, options.password);
    } catch (error) {
      throw connectError(error, options.url, 'bind');
    }
    const identity = await readIdentity(client, options);
    const search = async (filter: string, attributes: string[]) => {
      try {
        const { searchEntries } = await client.search(identity.baseDn, {
          scope: 'sub',
          filter,
          attributes,
          paged: { pageSize: options.pageSize ?? 500 },
          explicitBufferAttributes: binary,
        });
        const objects: DirectoryObject[] = [];
        for (const entry of searchEntries) {
          const object = toObject(await withFullRanges(client, entry));
          if (object) objects.push(object);
        }
        return objects;
      } catch (error) {
        throw new DirectoryError(
          'directory/search-failed',
          `searching ${filter} on ${options.url} failed: ${describeError(error)}`,
          {
            cause: error,
          },
        );
      }
    };
    return {
      identity,
      groups: () => search('(objectClass=group)', groupAttributes),
      accounts: (filter) => search(`(&(objectClass=user)${filter})`, accountAttributes),
      close: closeReader,
    };
  } catch (error) {
    await closeReader();
    throw error instanceof DirectoryError ? error : connectError(error, options.url, 'connect');
  }
}

async function readIdentity(client: Client, options: DirectoryConnectionOptions): Promise<DirectoryIdentity> {
  try {
    const { searchEntries } = await client.search('', {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['dnsHostName', 'dsServiceName', 'highestCommittedUSN', 'defaultNamingContext'],
    });
    const root = searchEntries[0];
    const text = (name: string) => {
      const v = root?.[name];
      return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
    };
    const service = text('dsServiceName');
    const baseDn = options.baseDn ?? text('defaultNamingContext');
    const highest = Number(text('highestCommittedUSN'));
    if (!service || !baseDn || !Number.isSafeInteger(highest))
      throw new Error('the rootDSE lacks dsServiceName, defaultNamingContext or highestCommittedUSN');
    const ntds = await client.search(service, {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['invocationId'],
      explicitBufferAttributes: binary,
    });
    const raw = ntds.searchEntries[0]?.invocationId;
    const invocationId = Buffer.isBuffer(raw) ? decodeGuid(raw) : undefined;
    if (!invocationId) throw new Error(`${service} has no invocationId`);
    return {
      invocationId,
      dnsHostName: (text('dnsHostName') ?? '').toLowerCase(),
      highestCommittedUsn: highest,
      baseDn,
      domain: dnsDomainOfDn(baseDn),
    };
  } catch (error) {
    throw new DirectoryError(
      'directory/search-failed',
      `reading the rootDSE of ${options.url} failed: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Fetches the rest of any attribute the DC sent as a range (`member;range=0-1499`). */
async function withFullRanges(client: Client, entry: Entry): Promise<Entry> {
  let result = entry;
  for (const name of Object.keys(entry)) {
    const m = /^([^;]+);range=(\d+)-(\d+|\*)$/i.exec(name);
    if (!m) continue;
    const attribute = m[1] as string;
    const values = [...asStrings(entry[name])];
    let end = m[3] as string;
    while (end !== '*') {
      const next = await client.search(entry.dn, {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: [`${attribute};range=${Number(end) + 1}-*`],
      });
      const part = next.searchEntries[0] ?? { dn: entry.dn };
      const key = Object.keys(part).find((k) =>
        k.toLowerCase().startsWith(`${attribute.toLowerCase()};range=`),
      );
      if (!key) break;
      values.push(...asStrings(part[key]));
      end = (/-(\d+|\*)$/.exec(key)?.[1] ?? '*') as string;
    }
    const { [name]: _ranged, ...rest } = result;
    result = { ...rest, dn: entry.dn, [attribute]: values };
  }
  return result;
}

function asStrings(value: Entry[string] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
}

/** An LDAP entry as a DirectoryObject; undefined when it lacks objectGUID or uSNChanged. */
export function toObject(entry: Entry): DirectoryObject | undefined {
  const attributes: Record<string, string[]> = {};
  let guid: string | undefined;
  let sid: string | undefined;
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const lower = name.toLowerCase();
    if (lower === 'objectguid' || lower === 'objectsid') {
      const bytes = Array.isArray(value) ? value[0] : value;
      if (!Buffer.isBuffer(bytes)) continue;
      if (lower === 'objectguid') guid = decodeGuid(bytes);
      else sid = decodeSid(bytes);
      continue;
    }
    attributes[lower] = asStrings(value);
  }
  const usnChanged = Number(attributes.usnchanged?.[0]);
  if (!guid || !Number.isSafeInteger(usnChanged)) return undefined;
  const classes = (attributes.objectclass ?? []).map((c) => c.toLowerCase());
  const kind = classes.includes('group') ? 'group' : classes.includes('computer') ? 'computer' : 'user';
  return { kind, dn: entry.dn, guid, ...(sid ? { sid } : {}), usnChanged, attributes };
}

/** An OR filter matching any of `values` of an attribute, e.g. `(|(distinguishedName=…)…)`. */
export function anyOf(attribute: string, values: readonly string[], encode = escapeFilterValue): string {
  return `(|${values.map((v) => `(${attribute}=${encode(v)})`).join('')})`;
}
