// Who may do what, on SQLite: users, user groups, API clients, sessions, roles with their
// assignments, and ranked device groups with the user groups that see them.
import { randomUUID } from 'node:crypto';
import { flag, json, parseJson, type SqliteContext, type SqliteDb } from './sqlite-context.ts';
import { isoTime, oneOf, pageOf, required } from './state-checks.ts';
import {
  type ApiClientRecord,
  type ApiClients,
  type DeviceGroupRecord,
  type DeviceGroups,
  type Principal,
  type RoleRecord,
  type Roles,
  remediationLevels,
  type SessionRecord,
  type Sessions,
  type UserGroupRecord,
  type UserGroups,
  type UserRecord,
  type Users,
} from './state-store.ts';
import { StoreError } from './store-error.ts';

interface UserRow {
  id: string;
  name: string;
  display_name: string | null;
  email: string | null;
  password_hash: string | null;
  totp_secret: string | null;
  disabled: number;
  must_change_password: number;
  created_at: string;
  last_login_at: string | null;
}

const userOf = (r: UserRow): UserRecord => ({
  id: r.id,
  name: r.name,
  displayName: r.display_name,
  email: r.email,
  passwordHash: r.password_hash,
  totpSecret: r.totp_secret,
  disabled: r.disabled === 1,
  mustChangePassword: r.must_change_password === 1,
  createdAt: r.created_at,
  lastLoginAt: r.last_login_at,
});

const getUser = (db: SqliteDb, id: string) => {
  const row = db.get<UserRow>('SELECT * FROM users WHERE id = @id', { id });
  return row && userOf(row);
};

export function sqliteUsers(ctx: SqliteContext): Users {
  return {
    create: (input) =>
      ctx.run((db) => {
        const id = input.id ?? randomUUID();
        db.run(
          `INSERT INTO users (id, name, display_name, email, password_hash, totp_secret, disabled, must_change_password, created_at)
           VALUES (@id, @name, @display_name, @email, @password_hash, @totp_secret, @disabled, @must_change_password, @created_at)`,
          {
            id,
            name: required(input.name, 'user name'),
            display_name: input.displayName ?? null,
            email: input.email ?? null,
            password_hash: input.passwordHash ?? null,
            totp_secret: input.totpSecret ?? null,
            disabled: input.disabled ? 1 : 0,
            must_change_password: input.mustChangePassword ? 1 : 0,
            created_at: ctx.now(),
          },
        );
        return getUser(db, id) as UserRecord;
      }),
    get: (id) => ctx.run((db) => getUser(db, id)),
    getByName: (name) =>
      ctx.run((db) => {
        const row = db.get<UserRow>('SELECT * FROM users WHERE name = @name', { name });
        return row && userOf(row);
      }),
    list: (options) =>
      ctx.run((db) => {
        const { limit, offset } = pageOf(options);
        const where = options?.includeDisabled === false ? 'WHERE disabled = 0' : '';
        const items = db.all<UserRow>(
          `SELECT * FROM users ${where} ORDER BY name LIMIT @limit OFFSET @offset`,
          {
            limit,
            offset,
          },
        );
        const total = db.get<{ n: number }>(`SELECT count(*) AS n FROM users ${where}`)?.n ?? 0;
        return { items: items.map(userOf), total };
      }),
    update: (id, patch) =>
      ctx.run((db) => {
        const found = db.update('users', 'id', id, {
          name: patch.name === undefined ? undefined : required(patch.name, 'user name'),
          display_name: patch.displayName,
          email: patch.email,
          password_hash: patch.passwordHash,
          totp_secret: patch.totpSecret,
          disabled: flag(patch.disabled),
          must_change_password: flag(patch.mustChangePassword),
          last_login_at:
            patch.lastLoginAt === undefined || patch.lastLoginAt === null
              ? patch.lastLoginAt
              : isoTime(patch.lastLoginAt, 'lastLoginAt'),
        });
        return found ? getUser(db, id) : undefined;
      }),
    delete: (id) => ctx.run((db) => db.run('DELETE FROM users WHERE id = @id', { id }).changes > 0),
  };
}

interface GroupRow {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
}

const groupOf = (r: GroupRow): UserGroupRecord => ({
  id: r.id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
});

export function sqliteUserGroups(ctx: SqliteContext): UserGroups {
  return {
    create: (input) =>
      ctx.run((db) => {
        const id = input.id ?? randomUUID();
        db.run('INSERT INTO user_groups VALUES (@id, @name, @description, @created_at)', {
          id,
          name: required(input.name, 'group name'),
          description: input.description ?? null,
          created_at: ctx.now(),
        });
        return groupOf(db.get<GroupRow>('SELECT * FROM user_groups WHERE id = @id', { id }) as GroupRow);
      }),
    get: (id) =>
      ctx.run((db) => {
        const row = db.get<GroupRow>('SELECT * FROM user_groups WHERE id = @id', { id });
        return row && groupOf(row);
      }),
    list: () => ctx.run((db) => db.all<GroupRow>('SELECT * FROM user_groups ORDER BY name').map(groupOf)),
    delete: (id) => ctx.run((db) => db.run('DELETE FROM user_groups WHERE id = @id', { id }).changes > 0),
    addMember: (groupId, userId) =>
      ctx.run((db) => {
        db.run('INSERT OR IGNORE INTO user_group_members VALUES (@groupId, @userId)', { groupId, userId });
      }),
    removeMember: (groupId, userId) =>
      ctx.run(
        (db) =>
          db.run('DELETE FROM user_group_members WHERE group_id = @groupId AND user_id = @userId', {
            groupId,
            userId,
          }).changes > 0,
      ),
    members: (groupId) =>
      ctx.run((db) =>
        db
          .all<UserRow>(
            'SELECT u.* FROM users u JOIN user_group_members m ON m.user_id = u.id WHERE m.group_id = @groupId ORDER BY u.name',
            { groupId },
          )
          .map(userOf),
      ),
    groupsOf: (userId) =>
      ctx.run((db) =>
        db
          .all<GroupRow>(
            'SELECT g.* FROM user_groups g JOIN user_group_members m ON m.group_id = g.id WHERE m.user_id = @userId ORDER BY g.name',
            { userId },
          )
          .map(groupOf),
      ),
  };
}

interface ApiClientRow {
  id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  disabled: number;
  created_at: string;
  last_used_at: string | null;
}

const apiClientOf = (r: ApiClientRow): ApiClientRecord => ({
  id: r.id,
  name: r.name,
  secretHash: r.secret_hash,
  scopes: parseJson<string[]>(r.scopes),
  disabled: r.disabled === 1,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

const getApiClient = (db: SqliteDb, id: string) => {
  const row = db.get<ApiClientRow>('SELECT * FROM api_clients WHERE id = @id', { id });
  return row && apiClientOf(row);
};

export function sqliteApiClients(ctx: SqliteContext): ApiClients {
  return {
    create: (input) =>
      ctx.run((db) => {
        const id = input.id ?? randomUUID();
        db.run('INSERT INTO api_clients VALUES (@id, @name, @secret_hash, @scopes, 0, @created_at, NULL)', {
          id,
          name: required(input.name, 'client name'),
          secret_hash: required(input.secretHash, 'secret hash'),
          scopes: json(input.scopes),
          created_at: ctx.now(),
        });
        return getApiClient(db, id) as ApiClientRecord;
      }),
    get: (id) => ctx.run((db) => getApiClient(db, id)),
    list: () =>
      ctx.run((db) => db.all<ApiClientRow>('SELECT * FROM api_clients ORDER BY name').map(apiClientOf)),
    update: (id, patch) =>
      ctx.run((db) => {
        const found = db.update('api_clients', 'id', id, {
          name: patch.name,
          secret_hash: patch.secretHash,
          scopes: patch.scopes && json(patch.scopes),
          disabled: flag(patch.disabled),
          last_used_at: patch.lastUsedAt && isoTime(patch.lastUsedAt, 'lastUsedAt'),
        });
        return found ? getApiClient(db, id) : undefined;
      }),
    delete: (id) => ctx.run((db) => db.run('DELETE FROM api_clients WHERE id = @id', { id }).changes > 0),
  };
}

interface SessionRow {
  token_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
}

const sessionOf = (r: SessionRow): SessionRecord => ({
  tokenHash: r.token_hash,
  userId: r.user_id,
  csrfToken: r.csrf_token,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastSeenAt: r.last_seen_at,
});

export function sqliteSessions(ctx: SqliteContext): Sessions {
  const find = (db: SqliteDb, tokenHash: string, now: string) => {
    const row = db.get<SessionRow>(
      'SELECT * FROM sessions WHERE token_hash = @tokenHash AND expires_at > @now',
      {
        tokenHash,
        now,
      },
    );
    return row && sessionOf(row);
  };
  return {
    create: (input) =>
      ctx.run((db) => {
        const now = ctx.now();
        db.run('INSERT INTO sessions VALUES (@token_hash, @user_id, @csrf_token, @now, @expires_at, @now)', {
          token_hash: required(input.tokenHash, 'token hash'),
          user_id: input.userId,
          csrf_token: required(input.csrfToken, 'CSRF token'),
          now,
          expires_at: isoTime(input.expiresAt, 'expiresAt'),
        });
        return sessionOf(
          db.get<SessionRow>('SELECT * FROM sessions WHERE token_hash = @t', {
            t: input.tokenHash,
          }) as SessionRow,
        );
      }),
    get: (tokenHash, now) =>
      ctx.run((db) => find(db, tokenHash, now === undefined ? ctx.now() : isoTime(now, 'now'))),
    touch: (tokenHash, expiresAt) =>
      ctx.run((db) => {
        const now = ctx.now();
        db.run(
          'UPDATE sessions SET last_seen_at = @now, expires_at = coalesce(@expires_at, expires_at) WHERE token_hash = @tokenHash AND expires_at > @now',
          { now, tokenHash, expires_at: expiresAt === undefined ? null : isoTime(expiresAt, 'expiresAt') },
        );
        return find(db, tokenHash, now);
      }),
    delete: (tokenHash) =>
      ctx.run(
        (db) => db.run('DELETE FROM sessions WHERE token_hash = @tokenHash', { tokenHash }).changes > 0,
      ),
    deleteForUser: (userId) =>
      ctx.run((db) => db.run('DELETE FROM sessions WHERE user_id = @userId', { userId }).changes),
    deleteExpired: (now) =>
      ctx.run(
        (db) =>
          db.run('DELETE FROM sessions WHERE expires_at <= @now', {
            now: now === undefined ? ctx.now() : isoTime(now, 'now'),
          }).changes,
      ),
  };
}

interface RoleRow {
  id: string;
  name: string;
  description: string | null;
  permissions: string;
  built_in: number;
  created_at: string;
}

const roleOf = (r: RoleRow): RoleRecord => ({
  id: r.id,
  name: r.name,
  description: r.description,
  permissions: parseJson<string[]>(r.permissions),
  builtIn: r.built_in === 1,
  createdAt: r.created_at,
});

const getRole = (db: SqliteDb, id: string) => {
  const row = db.get<RoleRow>('SELECT * FROM roles WHERE id = @id', { id });
  return row && roleOf(row);
};

/** The column a principal's id goes in. */
const principalColumn = (p: Principal) => (p.kind === 'user' ? 'user_id' : 'group_id');

const ROLES_OF_USER = `SELECT DISTINCT r.* FROM roles r JOIN role_assignments a ON a.role_id = r.id
  WHERE a.user_id = @userId OR a.group_id IN (SELECT group_id FROM user_group_members WHERE user_id = @userId)
  ORDER BY r.name`;

export function sqliteRoles(ctx: SqliteContext): Roles {
  return {
    create: (input) =>
      ctx.run((db) => {
        const id = input.id ?? randomUUID();
        db.run('INSERT INTO roles VALUES (@id, @name, @description, @permissions, @built_in, @created_at)', {
          id,
          name: required(input.name, 'role name'),
          description: input.description ?? null,
          permissions: json([...new Set(input.permissions)]),
          built_in: input.builtIn ? 1 : 0,
          created_at: ctx.now(),
        });
        return getRole(db, id) as RoleRecord;
      }),
    get: (id) => ctx.run((db) => getRole(db, id)),
    getByName: (name) =>
      ctx.run((db) => {
        const row = db.get<RoleRow>('SELECT * FROM roles WHERE name = @name', { name });
        return row && roleOf(row);
      }),
    list: () => ctx.run((db) => db.all<RoleRow>('SELECT * FROM roles ORDER BY name').map(roleOf)),
    update: (id, patch) =>
      ctx.run((db) => {
        const found = db.update('roles', 'id', id, {
          name: patch.name === undefined ? undefined : required(patch.name, 'role name'),
          description: patch.description,
          permissions: patch.permissions && json([...new Set(patch.permissions)]),
        });
        return found ? getRole(db, id) : undefined;
      }),
    delete: (id) => ctx.run((db) => db.run('DELETE FROM roles WHERE id = @id', { id }).changes > 0),
    assign: (roleId, principal) =>
      ctx.run((db) => {
        db.run(
          `INSERT OR IGNORE INTO role_assignments (role_id, ${principalColumn(principal)}) VALUES (@roleId, @id)`,
          {
            roleId,
            id: principal.id,
          },
        );
      }),
    unassign: (roleId, principal) =>
      ctx.run(
        (db) =>
          db.run(
            `DELETE FROM role_assignments WHERE role_id = @roleId AND ${principalColumn(principal)} = @id`,
            {
              roleId,
              id: principal.id,
            },
          ).changes > 0,
      ),
    assignments: (roleId) =>
      ctx.run((db) =>
        db
          .all<{ user_id: string | null; group_id: string | null }>(
            'SELECT user_id, group_id FROM role_assignments WHERE role_id = @roleId ORDER BY id',
            { roleId },
          )
          .map(
            (r): Principal =>
              r.user_id !== null ? { kind: 'user', id: r.user_id } : { kind: 'group', id: r.group_id ?? '' },
          ),
      ),
    rolesOf: (userId) => ctx.run((db) => db.all<RoleRow>(ROLES_OF_USER, { userId }).map(roleOf)),
    permissionsOf: (userId) =>
      ctx.run((db) => {
        const all = db
          .all<RoleRow>(ROLES_OF_USER, { userId })
          .flatMap((r) => parseJson<string[]>(r.permissions));
        return [...new Set(all)].sort();
      }),
  };
}

interface DeviceGroupRow {
  id: string;
  name: string;
  description: string | null;
  rank: number;
  remediation_level: string;
  rules: string;
  created_at: string;
  updated_at: string;
  user_group_ids: string;
}

const deviceGroupOf = (r: DeviceGroupRow): DeviceGroupRecord => ({
  id: r.id,
  name: r.name,
  description: r.description,
  rank: r.rank,
  remediationLevel: r.remediation_level as DeviceGroupRecord['remediationLevel'],
  rules: parseJson(r.rules),
  userGroupIds: parseJson<string[]>(r.user_group_ids).sort(),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const DEVICE_GROUPS = `SELECT g.*, (SELECT json_group_array(user_group_id) FROM device_group_access a
  WHERE a.device_group_id = g.id) AS user_group_ids FROM device_groups g`;

const listDeviceGroups = (db: SqliteDb, where = '', params = {}) =>
  db.all<DeviceGroupRow>(`${DEVICE_GROUPS} ${where} ORDER BY g.rank, g.name`, params).map(deviceGroupOf);

const getDeviceGroup = (db: SqliteDb, id: string) => listDeviceGroups(db, 'WHERE g.id = @id', { id })[0];

function setAccess(db: SqliteDb, groupId: string, userGroupIds: readonly string[] | undefined): void {
  if (userGroupIds === undefined) return;
  db.run('DELETE FROM device_group_access WHERE device_group_id = @groupId', { groupId });
  for (const userGroupId of new Set(userGroupIds)) {
    db.run('INSERT INTO device_group_access VALUES (@groupId, @userGroupId)', { groupId, userGroupId });
  }
}

/** Ranks 1… in the current order, closing gaps. */
function renumber(db: SqliteDb): void {
  const ids = db.all<{ id: string }>('SELECT id FROM device_groups ORDER BY rank, name');
  ids.forEach(({ id }, i) => {
    db.run('UPDATE device_groups SET rank = @rank WHERE id = @id', { rank: i + 1, id });
  });
}

export function sqliteDeviceGroups(ctx: SqliteContext): DeviceGroups {
  return {
    create: (input) =>
      ctx.run((db) =>
        db.atomic(() => {
          const id = input.id ?? randomUUID();
          const now = ctx.now();
          const last = db.get<{ n: number }>('SELECT count(*) AS n FROM device_groups')?.n ?? 0;
          const rank = Math.min(Math.max(1, input.rank ?? last + 1), last + 1);
          db.run('UPDATE device_groups SET rank = rank + 1 WHERE rank >= @rank', { rank });
          db.run(
            'INSERT INTO device_groups VALUES (@id, @name, @description, @rank, @level, @rules, @now, @now)',
            {
              id,
              name: required(input.name, 'device group name'),
              description: input.description ?? null,
              rank,
              level: oneOf(input.remediationLevel, remediationLevels, 'remediationLevel'),
              rules: json(input.rules),
              now,
            },
          );
          setAccess(db, id, input.userGroupIds ?? []);
          return getDeviceGroup(db, id) as DeviceGroupRecord;
        }),
      ),
    get: (id) => ctx.run((db) => getDeviceGroup(db, id)),
    list: () => ctx.run((db) => listDeviceGroups(db)),
    update: (id, patch) =>
      ctx.run((db) =>
        db.atomic(() => {
          const found = db.update('device_groups', 'id', id, {
            name: patch.name === undefined ? undefined : required(patch.name, 'device group name'),
            description: patch.description,
            remediation_level:
              patch.remediationLevel && oneOf(patch.remediationLevel, remediationLevels, 'remediationLevel'),
            rules: patch.rules === undefined ? undefined : json(patch.rules),
            updated_at: ctx.now(),
          });
          if (!found) return undefined;
          setAccess(db, id, patch.userGroupIds);
          return getDeviceGroup(db, id);
        }),
      ),
    delete: (id) =>
      ctx.run((db) =>
        db.atomic(() => {
          const deleted = db.run('DELETE FROM device_groups WHERE id = @id', { id }).changes > 0;
          if (deleted) renumber(db);
          return deleted;
        }),
      ),
    rerank: (ids) =>
      ctx.run((db) =>
        db.atomic(() => {
          const known = db.all<{ id: string }>('SELECT id FROM device_groups').map((r) => r.id);
          if (
            ids.length !== known.length ||
            new Set(ids).size !== ids.length ||
            !ids.every((id) => known.includes(id))
          ) {
            throw new StoreError(
              'store/invalid',
              `rerank must list each of the ${known.length} device groups once, found ${ids.length} ids`,
            );
          }
          const now = ctx.now();
          ids.forEach((id, i) => {
            db.run('UPDATE device_groups SET rank = @rank, updated_at = @now WHERE id = @id', {
              rank: i + 1,
              now,
              id,
            });
          });
          return listDeviceGroups(db);
        }),
      ),
    visibleTo: (userId) =>
      ctx.run((db) =>
        listDeviceGroups(
          db,
          `WHERE NOT EXISTS (SELECT 1 FROM device_group_access a WHERE a.device_group_id = g.id)
           OR EXISTS (SELECT 1 FROM device_group_access a JOIN user_group_members m ON m.group_id = a.user_group_id
                      WHERE a.device_group_id = g.id AND m.user_id = @userId)`,
          { userId },
        ),
      ),
  };
}
