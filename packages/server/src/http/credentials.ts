// The auth library's stores on top of the state store: browser sessions, API clients and their
// access tokens, and a user's access model (directory role, user groups, roles, device groups).
import type {
  DeviceGroupRecord,
  Json,
  StateStore,
  ApiClientRecord as StoredClient,
  UserRecord,
} from '@palisade/store';
import type { AccessTokenRecord, ApiClientRecord, ApiClientStore } from '../auth/api-clients.ts';
import { type AccessModel, type UserPrincipal, userPrincipal } from '../auth/authorize.ts';
import type { DeviceGroupConfig, DeviceGroupRule, RemediationLevel } from '../auth/device-groups.ts';
import {
  type DirectoryRole,
  directoryRoles,
  isApiScope,
  type MdeRole,
  type MdiRoleGroup,
  mdiRoleGroups,
  type PortalPermission,
  portalPermissions,
} from '../auth/permissions.ts';
import {
  defaultSessionPolicy,
  type SessionPolicy,
  type SessionRecord,
  type SessionStore,
} from '../auth/sessions.ts';
import { directoryRoleNames } from '../instance.ts';

/**
 * Sessions in the state store. The store keeps a session's expiry rather than the auth library's
 * idle and absolute limits: expiry is the earlier of the two, and `checkSession` applies both.
 * `mfa` is not stored: a session exists only after every factor the user has was given.
 */
export function stateSessionStore(
  state: StateStore,
  policy: SessionPolicy = defaultSessionPolicy,
): SessionStore {
  const expiry = (record: SessionRecord) =>
    new Date(
      Math.min(record.createdAt + policy.absoluteTimeoutMs, record.lastSeenAt + policy.idleTimeoutMs),
    ).toISOString();
  return {
    async getSession(id) {
      const stored = await state.sessions.get(id);
      if (stored === undefined) return undefined;
      return {
        id,
        userId: stored.userId,
        createdAt: Date.parse(stored.createdAt),
        lastSeenAt: Date.parse(stored.lastSeenAt),
        mfa: true,
      };
    },
    async putSession(record) {
      const known = await state.sessions.get(record.id);
      if (known) await state.sessions.touch(record.id, expiry(record));
      else {
        await state.sessions.create({
          tokenHash: record.id,
          userId: record.userId,
          // The CSRF token is derived from the session token when needed (csrfTokenFor), so the
          // store's column only records how.
          csrfToken: 'hmac-sha256(session token)',
          expiresAt: expiry(record),
        });
      }
    },
    async deleteSession(id) {
      await state.sessions.delete(id);
    },
    async deleteSessionsOfUser(userId) {
      await state.sessions.deleteForUser(userId);
    },
  };
}

/** At most this many access tokens are held; expired ones are dropped first, then the oldest. */
const maxTokens = 100_000;

/**
 * API clients from the state store. Access tokens are kept in memory: the state store has no
 * table for them, so a restart ends every token and clients fetch a new one, as OAuth clients
 * do when a token is refused. Secrets do not expire (the store keeps no expiry).
 */
export function stateApiClientStore(state: StateStore, now: () => number = Date.now): ApiClientStore {
  const tokens = new Map<string, AccessTokenRecord>();
  return {
    async getApiClient(clientId) {
      const stored = await state.apiClients.get(clientId);
      return stored === undefined ? undefined : apiClientOf(stored);
    },
    putAccessToken(record) {
      if (tokens.size >= maxTokens) {
        const t = now();
        for (const [id, token] of tokens) if (token.expiresAt <= t) tokens.delete(id);
      }
      if (tokens.size >= maxTokens) {
        const oldest = tokens.keys().next().value;
        if (oldest !== undefined) tokens.delete(oldest);
      }
      tokens.set(record.id, record);
    },
    getAccessToken(id) {
      return tokens.get(id);
    },
  };
}

function apiClientOf(stored: StoredClient): ApiClientRecord {
  return {
    clientId: stored.id,
    name: stored.name,
    secretDigest: stored.secretHash,
    scopes: stored.scopes.filter(isApiScope),
    createdAt: Date.parse(stored.createdAt),
    createdBy: '',
    disabled: stored.disabled,
  };
}

const remediationLevels: Readonly<Record<DeviceGroupRecord['remediationLevel'], RemediationLevel>> = {
  none: 'no-automated-response',
  'semi-all': 'semi-approval-all-folders',
  'semi-non-temp': 'semi-approval-non-temp-folders',
  'semi-core': 'semi-approval-core-folders',
  full: 'full',
};

function strings(value: Json | undefined): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

function ruleOf(rules: Json): DeviceGroupRule {
  const r = typeof rules === 'object' && rules !== null && !Array.isArray(rules) ? rules : {};
  const out: { -readonly [K in keyof DeviceGroupRule]: DeviceGroupRule[K] } = {};
  const names = strings(r.names);
  const domains = strings(r.domains);
  const osPlatforms = strings(r.osPlatforms);
  const tags = strings(r.tags);
  if (names) out.names = names;
  if (domains) out.domains = domains;
  if (osPlatforms) out.osPlatforms = osPlatforms;
  if (tags) out.tags = tags;
  return out;
}

/** The instance's device groups as authorization reads them. */
export async function loadDeviceGroups(state: StateStore): Promise<DeviceGroupConfig> {
  const groups = await state.deviceGroups.list();
  return {
    groups: groups.map((g) => ({
      id: g.id,
      name: g.name,
      rank: g.rank,
      remediationLevel: remediationLevels[g.remediationLevel],
      rule: ruleOf(g.rules),
      userGroups: g.userGroupIds,
      ...(g.description === null ? {} : { description: g.description }),
    })),
    ungrouped: { remediationLevel: 'no-automated-response', userGroups: [] },
  };
}

/**
 * The access model from the state store: the mode and MDI role groups from the instance's
 * settings (`accessMode`, `mdiRoleGroups`), custom roles with the user groups they are assigned
 * to, and the device groups.
 */
export async function loadAccessModel(state: StateStore): Promise<AccessModel> {
  const instance = await state.instance.get();
  const settings = instance?.settings ?? {};
  const builtIn = new Set(Object.values(directoryRoleNames));
  const roles: MdeRole[] = [];
  for (const role of await state.roles.list()) {
    if (role.builtIn && builtIn.has(role.name)) continue;
    const assignments = await state.roles.assignments(role.id);
    roles.push({
      id: role.id,
      name: role.name,
      permissions: role.permissions.filter((p): p is PortalPermission =>
        (portalPermissions as readonly string[]).includes(p),
      ),
      userGroups: assignments.filter((a) => a.kind === 'group').map((a) => a.id),
    });
  }
  const mdi = settings.mdiRoleGroups;
  const mdiGroups = Object.fromEntries(
    mdiRoleGroups.map((group) => [
      group,
      typeof mdi === 'object' && mdi !== null && !Array.isArray(mdi) ? (strings(mdi[group]) ?? []) : [],
    ]),
  ) as Record<MdiRoleGroup, string[]>;
  return {
    mode: settings.accessMode === 'rbac' ? 'rbac' : 'basic',
    roles,
    deviceGroups: await loadDeviceGroups(state),
    mdiRoleGroups: mdiGroups,
  };
}

/** A user's principal: its directory role (a built-in role), user groups and the access model. */
export async function loadUserPrincipal(state: StateStore, user: UserRecord): Promise<UserPrincipal> {
  const held = new Set((await state.roles.rolesOf(user.id)).filter((r) => r.builtIn).map((r) => r.name));
  const directoryRole: DirectoryRole | undefined = directoryRoles.find((r) =>
    held.has(directoryRoleNames[r]),
  );
  const groups = await state.userGroups.groupsOf(user.id);
  return userPrincipal(
    {
      id: user.id,
      name: user.name,
      directoryRole,
      userGroups: groups.map((g) => g.id),
      disabled: user.disabled,
    },
    await loadAccessModel(state),
  );
}
