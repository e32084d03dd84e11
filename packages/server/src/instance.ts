// The instance on disk: the data directory's layout, its stores and PKI, created on the first run
// (instance record, CA, access key, built-in roles, first administrator) and reopened on later
// runs. Nothing here listens on the network; up.ts puts the HTTPS server in front of it.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DuckDbEventStore,
  type EventStore,
  type InstanceRecord,
  SqliteStateStore,
  type StateStore,
} from '@palisade/store';
import { checkPasswordPolicy, hashPassword } from './auth/passwords.ts';
import type { DirectoryRole } from './auth/permissions.ts';
import { checkDomain } from './config.ts';
import { duckDbHuntingEngine, type HuntingEngine } from './hunting/hunting-engine.ts';
import { generateAccessKey } from './pki/access-key.ts';
import {
  createInstanceCa,
  ensureServerCertificate,
  type InstanceCa,
  loadInstanceCa,
  type ServerCertificate,
} from './pki/ca.ts';
import { PkiError } from './pki/pki-error.ts';
import { normalizeSerialNumber, type RevocationStore } from './pki/revocation.ts';

/** What the data directory holds. */
export const dataLayout = {
  pki: 'pki',
  events: 'events.duckdb',
  state: 'state.sqlite',
} as const;

/**
 * Directory roles (reference §5.1) are kept as built-in roles of the state store, assigned to
 * users; authorization reads them back as the user's `directoryRole`.
 */
export const directoryRoleNames: Readonly<Record<DirectoryRole, string>> = {
  'global-administrator': 'Global Administrator',
  'security-administrator': 'Security Administrator',
  'security-reader': 'Security Reader',
};

/** The first administrator's login name. */
export const firstAdministratorName = 'admin';

export const instanceErrorCodes = [
  'instance/no-domain',
  'instance/bad-domain',
  'instance/domain-mismatch',
  'instance/moved',
  'instance/weak-admin-password',
] as const;
export type InstanceErrorCode = (typeof instanceErrorCodes)[number];

/** Why the instance cannot be created or reopened; the message says what to do. */
export class InstanceError extends Error {
  override readonly name = 'InstanceError';
  constructor(
    readonly code: InstanceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface InstanceOptions {
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  readonly domain?: string | undefined;
  /** Asks for the domain on the first run when none was given (a terminal prompt). */
  readonly askDomain?: (() => Promise<string>) | undefined;
  /** The first administrator's password; generated (and returned once) when absent. */
  readonly adminPassword?: string | undefined;
  readonly keyPassphrase?: string | undefined;
  readonly duckDbMemoryLimit: string;
  /** Names the server certificate carries besides localhost, 127.0.0.1 and ::1. */
  readonly serverHosts?: readonly string[] | undefined;
  /** The state store's clock (tests); the wall clock when absent. */
  readonly now?: (() => Date) | undefined;
}

/** What only the first run knows: show it once. */
export interface CreatedInstance {
  readonly adminName: string;
  /** Set when the password was generated (not when it came from the environment). */
  readonly adminPassword: string | undefined;
  readonly accessKey: string;
}

export interface OpenedInstance {
  readonly record: InstanceRecord;
  readonly dataDir: string;
  readonly state: StateStore;
  readonly events: EventStore;
  /** Runs hunting queries on the event store (read-only). */
  readonly hunting: HuntingEngine;
  readonly ca: InstanceCa;
  readonly serverCertificate: ServerCertificate;
  readonly revocations: SensorRevocations;
  /** Present on the run that created the instance. */
  readonly created: CreatedInstance | undefined;
  close(): Promise<void>;
}

/**
 * Creates the instance in `options.dataDir` on the first run, or reopens it. A second run with
 * another domain, or after the directory was moved, is refused: the instance's name and data
 * location are fixed at creation (as MDI's workspace is).
 */
export async function openInstance(options: InstanceOptions): Promise<OpenedInstance> {
  const { dataDir } = options;
  // The directory holds keys and every event: the owner's alone when we create it (an existing
  // directory keeps its mode; the key files are 0600 and the pki folder 0700 either way).
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pkiDir = join(dataDir, dataLayout.pki);
  const state = await SqliteStateStore.open(
    join(dataDir, dataLayout.state),
    options.now === undefined ? {} : { now: options.now },
  );
  let events: EventStore | undefined;
  try {
    const existing = await state.instance.get();
    const opened = existing
      ? { record: checkReopen(existing, options), created: undefined }
      : await createInstance(state, pkiDir, options);
    const ca = await loadInstanceCa(pkiDir, { passphrase: options.keyPassphrase });
    const serverCertificate = await ensureServerCertificate(pkiDir, ca, {
      passphrase: options.keyPassphrase,
      hosts: options.serverHosts,
    });
    const eventStore = await DuckDbEventStore.open(join(dataDir, dataLayout.events), {
      memoryLimit: options.duckDbMemoryLimit,
    });
    events = eventStore;
    const revocations = await SensorRevocations.load(state);
    return {
      ...opened,
      dataDir,
      state,
      events: eventStore,
      hunting: duckDbHuntingEngine(eventStore),
      ca,
      serverCertificate,
      revocations,
      async close() {
        await eventStore.close();
        await state.close();
      },
    };
  } catch (error) {
    await events?.close();
    await state.close();
    throw error;
  }
}

/**
 * The hunting engine of an instance directory whose instance is not running, over its event
 * store opened read-only (`palisade hunt --data`). Throws `store/already-open` (a StoreError)
 * while the instance runs: DuckDB lets one process hold the file.
 */
export async function openHuntingReadOnly(
  dataDir: string,
  duckDbMemoryLimit: string,
): Promise<{ readonly engine: HuntingEngine; close(): Promise<void> }> {
  const store = await DuckDbEventStore.openReadOnly(join(dataDir, dataLayout.events), {
    memoryLimit: duckDbMemoryLimit,
  });
  return { engine: duckDbHuntingEngine(store), close: () => store.close() };
}

function checkReopen(record: InstanceRecord, options: InstanceOptions): InstanceRecord {
  const domain = options.domain?.trim().toLowerCase();
  if (domain !== undefined && domain !== record.domain) {
    throw new InstanceError(
      'instance/domain-mismatch',
      `${options.dataDir} holds the instance of ${record.domain}, not ${domain}; an instance's domain cannot change (use another --data directory for another domain)`,
    );
  }
  if (record.dataDir !== options.dataDir) {
    throw new InstanceError(
      'instance/moved',
      `the instance was created in ${record.dataDir} and cannot be moved to ${options.dataDir}; run it from ${record.dataDir}`,
    );
  }
  return record;
}

async function createInstance(
  state: StateStore,
  pkiDir: string,
  options: InstanceOptions,
): Promise<{ record: InstanceRecord; created: CreatedInstance }> {
  const asked = options.domain ?? (await options.askDomain?.());
  const domain = asked?.trim().toLowerCase();
  if (domain === undefined || domain === '') {
    throw new InstanceError(
      'instance/no-domain',
      `${options.dataDir} holds no instance yet: give the directory's DNS domain with --domain (e.g. --domain contoso.local)`,
    );
  }
  const problem = checkDomain(domain);
  if (problem) throw new InstanceError('instance/bad-domain', problem);
  // MDI names the workspace after the domain's first label (`contoso` for contoso.local).
  const name = domain.split('.')[0] ?? domain;

  const generated = options.adminPassword === undefined;
  // 18 random bytes: 24 base64url characters, 144 bits.
  const password = options.adminPassword ?? randomBytes(18).toString('base64url');
  const weak = checkPasswordPolicy(password, { userName: firstAdministratorName, words: [name] });
  if (weak.length > 0) {
    throw new InstanceError(
      'instance/weak-admin-password',
      `the administrator password is refused: ${weak.map((p) => p.message).join('; ')}`,
    );
  }
  const passwordHash = await hashPassword(password);
  const accessKey = generateAccessKey();

  // A first run that stopped after making the CA made no record and issued nothing: reuse its CA.
  try {
    await loadInstanceCa(pkiDir, { passphrase: options.keyPassphrase });
  } catch (error) {
    if (!(error instanceof PkiError && error.code === 'pki/ca-missing')) throw error;
    await createInstanceCa(pkiDir, { instanceName: name, passphrase: options.keyPassphrase });
  }

  const record = await state.transaction(async (tx) => {
    const created = await tx.instance.create({
      name,
      domain,
      dataDir: options.dataDir,
      settings: { accessMode: 'basic' },
    });
    await tx.accessKeys.rotate(accessKey.record.digest);
    const roles = new Map<DirectoryRole, string>();
    for (const [role, roleName] of Object.entries(directoryRoleNames) as [DirectoryRole, string][]) {
      const stored = await tx.roles.create({
        name: roleName,
        description: `Directory role ${role} (reference §5.1)`,
        permissions: [],
        builtIn: true,
      });
      roles.set(role, stored.id);
    }
    const admin = await tx.users.create({
      name: firstAdministratorName,
      displayName: 'Administrator',
      passwordHash,
      // A generated password was printed once: it is replaced at the first sign-in. One the
      // operator chose (PALISADE_ADMIN_PASSWORD) is already theirs and is kept.
      mustChangePassword: generated,
    });
    await tx.roles.assign(roles.get('global-administrator') ?? '', { kind: 'user', id: admin.id });
    await tx.audit.append({
      actor: 'system',
      action: 'instance.create',
      target: domain,
      details: { dataDir: options.dataDir, administrator: firstAdministratorName },
    });
    return created;
  });
  return {
    record,
    created: {
      adminName: firstAdministratorName,
      adminPassword: generated ? password : undefined,
      accessKey: accessKey.key,
    },
  };
}

/**
 * Revoked sensor certificates, answered from memory (the TLS check runs on every sensor request)
 * and backed by the state store: a sensor's `revokedAt` marks its certificate revoked.
 */
export class SensorRevocations implements Pick<RevocationStore, 'isRevoked'> {
  readonly #revoked: Set<string>;

  private constructor(revoked: Set<string>) {
    this.#revoked = revoked;
  }

  static async load(state: StateStore): Promise<SensorRevocations> {
    const sensors = await state.sensors.list({ includeRevoked: true });
    return new SensorRevocations(
      new Set(
        sensors.filter((s) => s.revokedAt !== null).map((s) => normalizeSerialNumber(s.certificateSerial)),
      ),
    );
  }

  isRevoked(serialNumber: string): boolean {
    return this.#revoked.has(normalizeSerialNumber(serialNumber));
  }

  /** Refuses the certificate from now on; call it once the sensor's `revokedAt` is stored. */
  add(serialNumber: string): void {
    this.#revoked.add(normalizeSerialNumber(serialNumber));
  }
}
