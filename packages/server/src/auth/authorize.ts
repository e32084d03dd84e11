// Who may call which route on which data. A principal (user, API client or nobody) is resolved
// once per request from the access model; `authorize` then answers allow or deny with a reason
// for a route's requirement and, where the route touches one, a resource's device groups and
// owner. The route table and the expected allow/deny matrix for the end-to-end RBAC test live
// here too, so a route without a permission fails that test.

import {
  allDeviceGroups,
  createScope,
  type DeviceGroupConfig,
  type Scope,
  ungroupedDevicesName,
  visibleDeviceGroups,
} from './device-groups.ts';
import {
  type AccessMode,
  type ApiScope,
  basicAccessLevelOf,
  basicAccessLevels,
  type DirectoryRole,
  isRouteRequirement,
  type MdeRole,
  type MdiRoleGroup,
  mdeAdministratorRole,
  mdiRoleGroupGrants,
  mdiRoleGroups,
  ownResourceScopes,
  type PortalPermission,
  type RoutePermission,
  type RouteRequirement,
  routePermissionsOfPortal,
  routePermissionsOfScopes,
} from './permissions.ts';

/** The instance's access configuration, as the state store keeps it. */
export interface AccessModel {
  readonly mode: AccessMode;
  /** Custom MDE roles (RBAC mode); the built-in administrator role is implicit. */
  readonly roles: readonly MdeRole[];
  readonly deviceGroups: DeviceGroupConfig;
  /** User-group ids whose members belong to each MDI role group. */
  readonly mdiRoleGroups: Readonly<Record<MdiRoleGroup, readonly string[]>>;
}

/** A local user as authorization sees it. */
export interface UserAccount {
  readonly id: string;
  readonly name: string;
  readonly directoryRole?: DirectoryRole | undefined;
  readonly userGroups: readonly string[];
  readonly disabled?: boolean;
}

/** What a user may do and see, resolved from the access model (cache it with the session). */
export interface UserAccess {
  readonly permissions: ReadonlySet<RoutePermission>;
  readonly portalPermissions: ReadonlySet<PortalPermission>;
  /** Names of the roles and levels that granted something, for the UI and the audit log. */
  readonly grantedBy: readonly string[];
  readonly scope: Scope;
}

export interface UserPrincipal {
  readonly kind: 'user';
  readonly id: string;
  readonly name: string;
  readonly access: UserAccess;
}

export interface ApiClientPrincipal {
  readonly kind: 'api-client';
  readonly clientId: string;
  readonly name: string;
  readonly scopes: readonly ApiScope[];
}

export interface AnonymousPrincipal {
  readonly kind: 'anonymous';
}

export type Principal = UserPrincipal | ApiClientPrincipal | AnonymousPrincipal;

export const anonymous: AnonymousPrincipal = { kind: 'anonymous' };

/** Whether a user is one of the directory roles RBAC mode places in the built-in administrator role. */
function isAdministrator(user: UserAccount): boolean {
  return user.directoryRole === 'global-administrator' || user.directoryRole === 'security-administrator';
}

/**
 * Resolves a user's permissions and device-group scope (§5.1–5.3, §2.8):
 * - basic mode: full access or read-only by directory role, every device group;
 * - RBAC mode: Global/Security Administrators hold the built-in administrator role and every
 *   device group; others hold the roles of their user groups (a Security Reader without a role
 *   has no access) and see the device groups of their user groups plus unassigned ones;
 * - in both modes MDI role-group permissions are added; they do not widen the device scope.
 */
export function resolveUserAccess(user: UserAccount, model: AccessModel): UserAccess {
  const portal = new Set<PortalPermission>();
  const grantedBy: string[] = [];
  if (user.disabled === true) {
    return { permissions: new Set(), portalPermissions: portal, grantedBy, scope: createScope(false, []) };
  }
  let unrestricted = false;
  if (model.mode === 'basic') {
    const level = basicAccessLevelOf(user.directoryRole);
    if (level !== undefined) {
      for (const p of basicAccessLevels[level]) portal.add(p);
      grantedBy.push(`basic:${level}`);
    }
    unrestricted = true;
  } else if (isAdministrator(user)) {
    for (const p of mdeAdministratorRole.permissions) portal.add(p);
    grantedBy.push(mdeAdministratorRole.name);
    unrestricted = true;
  } else {
    for (const role of model.roles) {
      if (!role.userGroups.some((g) => user.userGroups.includes(g))) continue;
      for (const p of role.permissions) portal.add(p);
      grantedBy.push(role.name);
    }
  }
  const permissions = routePermissionsOfPortal(portal);
  for (const group of mdiRoleGroups) {
    if (!model.mdiRoleGroups[group].some((g) => user.userGroups.includes(g))) continue;
    for (const p of mdiRoleGroupGrants[group]) permissions.add(p);
    grantedBy.push(`mdi:${group}`);
  }
  let scope: Scope;
  if (permissions.size === 0) scope = createScope(false, []);
  else if (unrestricted) scope = createScope(true, allDeviceGroups(model.deviceGroups));
  else scope = createScope(false, visibleDeviceGroups(model.deviceGroups, user.userGroups));
  return { permissions, portalPermissions: portal, grantedBy, scope };
}

/** A user principal for a request. */
export function userPrincipal(user: UserAccount, model: AccessModel): UserPrincipal {
  return { kind: 'user', id: user.id, name: user.name, access: resolveUserAccess(user, model) };
}

const everything = createScope(true, []);
const nothing = createScope(false, []);

/**
 * The device scope of a principal. API clients see every device group: app permissions are
 * tenant-wide, only delegated (user) tokens are "filtered to the device groups the user can
 * access" (§4.1).
 */
export function scopeOf(principal: Principal): Scope {
  if (principal.kind === 'user') return principal.access.scope;
  if (principal.kind === 'api-client') return everything;
  return nothing;
}

/** The route permissions a principal holds. */
export function permissionsOf(principal: Principal): ReadonlySet<RoutePermission> {
  if (principal.kind === 'user') return principal.access.permissions;
  if (principal.kind === 'api-client') return routePermissionsOfScopes(principal.scopes);
  return new Set();
}

/** What a route acts on, when it acts on something particular. */
export interface AuthorizeResource {
  /** Device groups of the resource: one for a device or alert, several for an incident. */
  readonly deviceGroupIds?: readonly (string | null | undefined)[];
  /** Who created it (indicators: Ti.ReadWrite reaches only the client's own). */
  readonly owner?: { readonly kind: 'user' | 'api-client'; readonly id: string };
}

export type AuthorizeDenyCode =
  | 'auth/unauthenticated'
  | 'auth/forbidden'
  | 'auth/out-of-scope'
  | 'auth/not-owner';

export type Decision =
  | { readonly allow: true }
  | {
      readonly allow: false;
      readonly code: AuthorizeDenyCode;
      /**
       * 401 without a principal, 403 without the permission, 404 for a resource outside the
       * caller's device groups (its existence is not disclosed).
       */
      readonly status: 401 | 403 | 404;
      readonly reason: string;
    };

function who(principal: Principal): string {
  if (principal.kind === 'user') return `user ${principal.name}`;
  if (principal.kind === 'api-client') return `API client ${principal.name}`;
  return 'anonymous caller';
}

/** Decides whether `principal` may use a route requiring `requirement` on `resource`. */
export function authorize(
  principal: Principal,
  requirement: RouteRequirement,
  resource?: AuthorizeResource,
): Decision {
  if (requirement === 'public') return { allow: true };
  if (principal.kind === 'anonymous') {
    return {
      allow: false,
      code: 'auth/unauthenticated',
      status: 401,
      reason: 'sign-in or a bearer token is required',
    };
  }
  if (requirement !== 'authenticated' && !permissionsOf(principal).has(requirement)) {
    return {
      allow: false,
      code: 'auth/forbidden',
      status: 403,
      reason: `${who(principal)} lacks the ${requirement} permission`,
    };
  }
  if (resource?.deviceGroupIds !== undefined && !scopeOf(principal).canSeeAny(resource.deviceGroupIds)) {
    return {
      allow: false,
      code: 'auth/out-of-scope',
      status: 404,
      reason: `${who(principal)} cannot see device group ${resource.deviceGroupIds.join(', ') || '(none)'}`,
    };
  }
  if (principal.kind === 'api-client' && requirement !== 'authenticated' && resource?.owner !== undefined) {
    const owned = resource.owner.kind === 'api-client' && resource.owner.id === principal.clientId;
    if (!owned && !holdsBeyondOwn(principal.scopes, requirement)) {
      return {
        allow: false,
        code: 'auth/not-owner',
        status: 403,
        reason: `${who(principal)} may ${requirement} only what it created`,
      };
    }
  }
  return { allow: true };
}

// Whether a scope other than an own-resources-only one grants the permission.
function holdsBeyondOwn(scopes: readonly ApiScope[], permission: RoutePermission): boolean {
  return scopes.some(
    (scope) =>
      routePermissionsOfScopes([scope]).has(permission) &&
      !(ownResourceScopes[scope] ?? []).includes(permission),
  );
}

export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof httpMethods)[number];

/** One route of the server and what it requires. The server's route list has this type. */
export interface RouteSpec {
  readonly method: HttpMethod;
  /** As registered, e.g. `/api/alerts/:id`. */
  readonly path: string;
  readonly permission: RouteRequirement;
}
export type RouteTable = readonly RouteSpec[];

/** A route as read from a router, before its declaration is checked. */
export interface RouteDeclaration {
  readonly method: string;
  readonly path: string;
  readonly permission?: string | undefined;
}

export interface MatrixSubject {
  readonly name: string;
  readonly principal: Principal;
}

/** One expected outcome: an allowed call answers 2xx, a denied one 401 or 403. */
export interface MatrixCell {
  readonly method: HttpMethod;
  readonly path: string;
  readonly subject: string;
  readonly permission: RouteRequirement;
  readonly expected: 'allow' | 401 | 403;
}

export const routeProblemCodes = [
  'route/no-permission',
  'route/unknown-permission',
  'route/bad-method',
  'route/duplicate',
] as const;
export type RouteProblemCode = (typeof routeProblemCodes)[number];

export interface RouteProblem {
  readonly code: RouteProblemCode;
  readonly route: string;
  readonly message: string;
}

export interface AccessMatrix {
  readonly cells: readonly MatrixCell[];
  /** Routes that cannot be placed in the matrix; the end-to-end test expects none. */
  readonly problems: readonly RouteProblem[];
}

/**
 * The expected outcome of every route for every subject, from the route declarations and the
 * subjects' resolved access. A route without a permission, with an unknown one, with an unknown
 * method or declared twice is reported as a problem and left out of the matrix.
 */
export function expectedAccessMatrix(
  routes: readonly RouteDeclaration[],
  subjects: readonly MatrixSubject[],
): AccessMatrix {
  const cells: MatrixCell[] = [];
  const problems: RouteProblem[] = [];
  const seen = new Set<string>();
  for (const route of routes) {
    const label = `${route.method} ${route.path}`;
    const method = route.method.toUpperCase();
    if (!(httpMethods as readonly string[]).includes(method)) {
      problems.push({
        code: 'route/bad-method',
        route: label,
        message: `unknown HTTP method ${route.method}`,
      });
      continue;
    }
    const key = `${method} ${route.path}`;
    if (seen.has(key)) {
      problems.push({
        code: 'route/duplicate',
        route: label,
        message: 'the route is declared more than once',
      });
      continue;
    }
    seen.add(key);
    if (route.permission === undefined || route.permission === '') {
      problems.push({
        code: 'route/no-permission',
        route: label,
        message: 'expected a permission, `authenticated` or `public`, found none',
      });
      continue;
    }
    if (!isRouteRequirement(route.permission)) {
      problems.push({
        code: 'route/unknown-permission',
        route: label,
        message: `expected a route permission, found "${route.permission}"`,
      });
      continue;
    }
    const permission = route.permission;
    for (const subject of subjects) {
      const decision = authorize(subject.principal, permission);
      cells.push({
        method: method as HttpMethod,
        path: route.path,
        subject: subject.name,
        permission,
        expected: decision.allow ? 'allow' : decision.status === 401 ? 401 : 403,
      });
    }
  }
  return { cells, problems };
}

/**
 * One subject per way of holding access under `model`: nobody, each directory role, the built-in
 * administrator and each custom role (RBAC mode), each MDI role group, and an API client per
 * scope plus one with none. Users of a custom role or MDI group get that role's first user
 * group only; roles without user groups have no members and give no subject.
 */
export function standardSubjects(model: AccessModel, apiScopeList: readonly ApiScope[]): MatrixSubject[] {
  const subjects: MatrixSubject[] = [{ name: 'anonymous', principal: anonymous }];
  const user = (name: string, account: Omit<UserAccount, 'id' | 'name'>) =>
    subjects.push({ name, principal: userPrincipal({ id: name, name, ...account }, model) });
  user('no-role', { userGroups: [] });
  user('global-administrator', { directoryRole: 'global-administrator', userGroups: [] });
  user('security-administrator', { directoryRole: 'security-administrator', userGroups: [] });
  user('security-reader', { directoryRole: 'security-reader', userGroups: [] });
  user('disabled-administrator', { directoryRole: 'global-administrator', userGroups: [], disabled: true });
  if (model.mode === 'rbac') {
    for (const role of model.roles) {
      const group = role.userGroups[0];
      if (group !== undefined) user(`role:${role.name}`, { userGroups: [group] });
    }
  }
  for (const group of mdiRoleGroups) {
    const userGroup = model.mdiRoleGroups[group][0];
    if (userGroup !== undefined) user(`mdi:${group}`, { userGroups: [userGroup] });
  }
  const client = (name: string, scopes: readonly ApiScope[]) =>
    subjects.push({ name, principal: { kind: 'api-client', clientId: name, name, scopes } });
  client('api:none', []);
  for (const scope of apiScopeList) client(`api:${scope}`, [scope]);
  return subjects;
}

export const accessModelProblemCodes = ['access/unknown-role-group', 'access/duplicate-role'] as const;
export type AccessModelProblemCode = (typeof accessModelProblemCodes)[number];

export interface AccessModelProblem {
  readonly code: AccessModelProblemCode;
  readonly message: string;
}

/**
 * Checks the parts of an access model that span roles and device groups: role names are unique
 * (and not the built-in one's), and a device group may be given only to user groups that hold a
 * role (§5.3 "Only groups already assigned to RBAC roles can be chosen").
 */
export function validateAccessModel(model: AccessModel): AccessModelProblem[] {
  const problems: AccessModelProblem[] = [];
  const names = new Set([mdeAdministratorRole.name.toLowerCase()]);
  for (const role of model.roles) {
    if (names.has(role.name.toLowerCase())) {
      problems.push({ code: 'access/duplicate-role', message: `role name "${role.name}" is already used` });
    }
    names.add(role.name.toLowerCase());
  }
  const withRole = new Set(model.roles.flatMap((r) => r.userGroups));
  const groups = [
    ...model.deviceGroups.groups.map((g) => ({ name: g.name, userGroups: g.userGroups })),
    { name: ungroupedDevicesName, userGroups: model.deviceGroups.ungrouped.userGroups },
  ];
  for (const group of groups) {
    for (const userGroup of group.userGroups) {
      if (!withRole.has(userGroup)) {
        problems.push({
          code: 'access/unknown-role-group',
          message: `device group "${group.name}" is given to user group "${userGroup}", which holds no role`,
        });
      }
    }
  }
  return problems;
}
