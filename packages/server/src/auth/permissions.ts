// The permission vocabulary: what routes require (route permissions), what MDE roles grant
// (portal permissions, defender-reference §5.2), what API clients are granted (API scopes, §4.2)
// and what MDI role groups may do (§2.8) — and the data that maps each of them to route
// permissions. Behaviour in `authorize.ts` reads these tables and nothing else.

/**
 * What a route requires of its caller. Every route names one; `authorize` checks it. Names are
 * `<area>.<verb>`; reads and writes are separate wherever MDE separates them.
 */
export const routePermissions = [
  'alerts.read',
  'alerts.write',
  'incidents.read',
  'incidents.write',
  'machines.read',
  /** Device tags and device value. */
  'machines.tag',
  'machines.scan',
  'machines.collect',
  'machines.isolate',
  'machines.restrict',
  'machines.quarantine',
  'machines.offboard',
  'liveresponse.basic',
  'liveresponse.advanced',
  /** Action center: pending and past actions. */
  'actions.read',
  /** Approve or reject pending remediation actions. */
  'actions.approve',
  /** Identity pages: users, groups, entity profiles (IdentityInfo). */
  'identities.read',
  /** Disable user, force password reset (the action account). */
  'identities.respond',
  'indicators.read',
  'indicators.write',
  'hunting.run',
  /** Custom detections, alert tuning (suppression) rules, exclusions. */
  'detections.manage',
  'sensors.read',
  /** Access key, sensor configuration and deletion, health-issue status. */
  'sensors.manage',
  'settings.read',
  /** Security settings: notifications, entity tags (sensitive, honeytoken), automation levels. */
  'settings.manage',
  /** System settings: retention, data sources (directory accounts), integrations, updates. */
  'system.manage',
  /** Users, user groups, roles, device groups, API clients. */
  'users.manage',
  'audit.read',
] as const;
export type RoutePermission = (typeof routePermissions)[number];

/**
 * What a route declares: a permission, or `public` (no caller needed: login, token endpoint,
 * health probe) or `authenticated` (any signed-in caller: own profile, logout, own TOTP).
 */
export type RouteRequirement = RoutePermission | 'public' | 'authenticated';

export function isRouteRequirement(value: string): value is RouteRequirement {
  return (
    value === 'public' || value === 'authenticated' || (routePermissions as readonly string[]).includes(value)
  );
}

/** MDE role permission options, defender-reference §5.2 (permission › sub-option). */
export const portalPermissions = [
  'viewData.securityOperations',
  'viewData.vulnerabilityManagement',
  'activeRemediation.securityOperations',
  'activeRemediation.tvmExceptionHandling',
  'activeRemediation.tvmRemediationHandling',
  'activeRemediation.tvmApplicationHandling',
  'securityBaselines.manage',
  'alertsInvestigation',
  'managePortalSystemSettings',
  'manageSecuritySettings',
  'liveResponse.basic',
  'liveResponse.advanced',
] as const;
export type PortalPermission = (typeof portalPermissions)[number];

export interface PortalPermissionInfo {
  /** As the MDE role editor shows it. */
  readonly label: string;
  readonly subOption?: string;
  /** What it grants, in the reference's words. */
  readonly grants: string;
}

/** The §5.2 table as data, for the role editor. */
export const portalPermissionInfo: Readonly<Record<PortalPermission, PortalPermissionInfo>> = {
  'viewData.securityOperations': {
    label: 'View data',
    subOption: 'Security operations',
    grants: 'View all security-operations data in the portal',
  },
  'viewData.vulnerabilityManagement': {
    label: 'View data',
    subOption: 'Defender Vulnerability Management',
    grants: 'View vulnerability-management data',
  },
  'activeRemediation.securityOperations': {
    label: 'Active remediation actions',
    subOption: 'Security operations',
    grants:
      'Take response actions; approve or dismiss pending remediation actions; manage allow/block lists for automation and indicators',
  },
  'activeRemediation.tvmExceptionHandling': {
    label: 'Active remediation actions',
    subOption: 'Defender Vulnerability Management – Exception handling',
    grants: 'Create and manage exceptions',
  },
  'activeRemediation.tvmRemediationHandling': {
    label: 'Active remediation actions',
    subOption: 'Defender Vulnerability Management – Remediation handling',
    grants: 'Submit remediation requests, create tickets, manage remediation activities',
  },
  'activeRemediation.tvmApplicationHandling': {
    label: 'Active remediation actions',
    subOption: 'Defender Vulnerability Management – Application handling',
    grants: 'Block or unblock vulnerable applications as mitigation',
  },
  'securityBaselines.manage': {
    label: 'Security baselines',
    subOption: 'Defender Vulnerability Management – Manage security baselines assessment profiles',
    grants: 'Create and manage baseline profiles',
  },
  alertsInvestigation: {
    label: 'Alerts investigation',
    grants:
      'Manage alerts, start automated investigations, run scans, collect investigation packages, manage device tags, download portable executable (PE) files only',
  },
  managePortalSystemSettings: {
    label: 'Manage portal system settings',
    grants:
      'Storage settings, SIEM and threat-intel API settings (global), advanced settings, automated file uploads, roles and device groups',
  },
  manageSecuritySettings: {
    label: 'Manage security settings in Security Center',
    grants:
      'Alert suppression, folder exclusions for automation, device onboarding/offboarding, email notifications, evaluation lab, allow/block lists for indicators',
  },
  'liveResponse.basic': {
    label: 'Live response capabilities',
    subOption: 'Basic',
    grants:
      'Start a session; run read-only commands (no file copy or execution); download a file from the device',
  },
  'liveResponse.advanced': {
    label: 'Live response capabilities',
    subOption: 'Advanced',
    grants:
      'Download PE and non-PE files from the file page; upload files to the device; view scripts in the library; run library scripts on the device',
  },
};

/** Everything "View data › Security operations" lets a user read; also the read-only basic level. */
const securityOperationsReads: readonly RoutePermission[] = [
  'alerts.read', // §5.2 API mapping: "List alerts or machines → View data"
  'incidents.read', // §5.4 Security data basics (Read): incidents, alerts, investigations…
  'machines.read', // §5.2: "List alerts or machines → View data"
  'identities.read', // all security-operations data; MDI "View entity profiles" (§2.8)
  'actions.read', // investigations (§5.4 Security data basics)
  'indicators.read', // submissions/indicators are security-operations data
  'hunting.run', // §5.2 API mapping: "Run advanced query → View data"
  'sensors.read', // health and sensor state are security-operations data
  'settings.read', // §2.8: viewing settings needs only read permissions
];

/**
 * Route permissions each MDE portal permission grants. The comments give the reference line of
 * defender-reference §5.2 (or §5.4 where §5.2 is silent). Vulnerability-management and baseline
 * permissions grant nothing yet: Palisade has no TVM feature.
 */
export const portalPermissionGrants: Readonly<Record<PortalPermission, readonly RoutePermission[]>> = {
  'viewData.securityOperations': securityOperationsReads,
  'viewData.vulnerabilityManagement': [],
  'activeRemediation.securityOperations': [
    // "Isolate, AV scan, restrict code execution, stop & quarantine → Active remediation actions"
    'machines.isolate',
    'machines.scan',
    'machines.restrict',
    'machines.quarantine',
    // "approve or dismiss pending remediation actions"; Action center approvals
    'actions.approve',
    // "manage allow/block lists for automation and indicators"
    'indicators.write',
    // user remediation (disable, reset password) is a response action: §2.7 "Response (manage)"
    'identities.respond',
  ],
  'activeRemediation.tvmExceptionHandling': [],
  'activeRemediation.tvmRemediationHandling': [],
  'activeRemediation.tvmApplicationHandling': [],
  'securityBaselines.manage': [],
  alertsInvestigation: [
    // "Manage alerts" and "Update alert → Alerts investigation"; incidents are groups of alerts
    'alerts.write',
    'incidents.write',
    // "run scans, collect investigation packages, manage device tags"
    'machines.scan',
    'machines.collect',
    'machines.tag',
  ],
  managePortalSystemSettings: [
    // "Storage settings, SIEM and threat-intel API settings, advanced settings"
    'system.manage',
    // "roles and device groups" (and API clients, the "API settings")
    'users.manage',
    // who changed roles and settings is itself a system-administration matter
    'audit.read',
  ],
  manageSecuritySettings: [
    // "Alert suppression, folder exclusions for automation, email notifications"
    'settings.manage',
    'detections.manage',
    // "device onboarding/offboarding": sensor access key and sensor lifecycle
    'sensors.manage',
    'machines.offboard',
    // "allow/block lists for indicators"
    'indicators.write',
  ],
  // Live response: Advanced includes everything Basic allows (inferred; §5.2 lists Advanced as
  // the larger set of the same capability).
  'liveResponse.basic': ['liveresponse.basic'],
  'liveResponse.advanced': ['liveresponse.basic', 'liveresponse.advanced'],
};

/** Application permissions of the MDE and XDR APIs (defender-reference §4.2). */
export const apiScopes = [
  'Alert.Read.All',
  'Alert.ReadWrite.All',
  'Machine.Read.All',
  'Machine.ReadWrite.All',
  'Machine.Isolate',
  'Machine.Scan',
  'Machine.CollectForensics',
  'Machine.RestrictExecution',
  'Machine.StopAndQuarantine',
  'Machine.Offboard',
  'Machine.LiveResponse',
  'AdvancedQuery.Read.All',
  'AdvancedHunting.Read.All',
  'Ti.Read.All',
  'Ti.ReadWrite',
  'Ti.ReadWrite.All',
  'Incident.Read.All',
  'Incident.ReadWrite.All',
] as const;
export type ApiScope = (typeof apiScopes)[number];

export function isApiScope(value: string): value is ApiScope {
  return (apiScopes as readonly string[]).includes(value);
}

/**
 * Route permissions each API scope grants (§4.2 "Used by" column). No scope grants settings,
 * users, sensors or audit: the MDE API exposes none of them, so an API client cannot change
 * who may do what.
 */
export const apiScopeGrants: Readonly<Record<ApiScope, readonly RoutePermission[]>> = {
  'Alert.Read.All': ['alerts.read'], // list/get alerts
  'Alert.ReadWrite.All': ['alerts.read', 'alerts.write'], // update alerts, create alert by reference
  'Machine.Read.All': ['machines.read', 'actions.read'], // list/get machines (and machine actions)
  'Machine.ReadWrite.All': ['machines.read', 'actions.read', 'machines.tag'], // tags, device value
  'Machine.Isolate': ['machines.isolate'], // isolate / unisolate
  'Machine.Scan': ['machines.scan'], // runAntiVirusScan
  'Machine.CollectForensics': ['machines.collect'], // collectInvestigationPackage
  'Machine.RestrictExecution': ['machines.restrict'], // restrict/unrestrictCodeExecution
  'Machine.StopAndQuarantine': ['machines.quarantine'], // StopAndQuarantineFile
  'Machine.Offboard': ['machines.offboard'], // offboard
  'Machine.LiveResponse': ['liveresponse.basic', 'liveresponse.advanced'], // runliveresponse (any command)
  'AdvancedQuery.Read.All': ['hunting.run'], // /api/advancedqueries/run
  'AdvancedHunting.Read.All': ['hunting.run'], // /api/advancedhunting/run
  'Ti.Read.All': ['indicators.read'], // list indicators
  'Ti.ReadWrite': ['indicators.read', 'indicators.write'], // the caller's own indicators only
  'Ti.ReadWrite.All': ['indicators.read', 'indicators.write'], // any indicator
  'Incident.Read.All': ['incidents.read'], // GET /api/incidents
  'Incident.ReadWrite.All': ['incidents.read', 'incidents.write'], // PATCH /api/incidents/{id}
};

/**
 * Scopes whose write permissions reach only what the client itself created (§4.2: Ti.ReadWrite
 * is "the caller's own indicators"). `authorize` checks the resource's owner for them.
 */
export const ownResourceScopes: Readonly<Partial<Record<ApiScope, readonly RoutePermission[]>>> = {
  'Ti.ReadWrite': ['indicators.write'],
};

/** The legacy MDI role groups (`Azure ATP <workspace> Administrators / Users / Viewers`, §2.8). */
export const mdiRoleGroups = ['administrators', 'users', 'viewers'] as const;
export type MdiRoleGroup = (typeof mdiRoleGroups)[number];

/** Read access every MDI role group has: §2.8 unified mapping gives all three "Security data basics (Read)". */
const mdiReads: readonly RoutePermission[] = [
  'alerts.read', // "View entity profiles and security alerts" ✔✔✔
  'incidents.read',
  'machines.read', // Security data basics (Read) covers devices (§5.4)
  'identities.read',
  'hunting.run', // Security data basics (Read) covers advanced hunting (§5.4)
  'sensors.read',
  'settings.read', // "View MDI settings" needs only read (§2.8 activity table)
];

/**
 * Route permissions per MDI role group, from the §2.8 activity table (✔ per group). The
 * unified-RBAC row for Viewers ("System settings (Read and manage); Security setting (All
 * permissions)") contradicts the activity table, where Viewers change nothing; Palisade follows
 * the activity table.
 */
export const mdiRoleGroupGrants: Readonly<Record<MdiRoleGroup, readonly RoutePermission[]>> = {
  viewers: mdiReads,
  users: [
    ...mdiReads,
    // "Change security alert status (reopen, close, exclude, suppress)" ✔ Users
    'alerts.write',
    'incidents.write',
    // "Update configuration: entity tags, exclusions, language, notifications, preview
    // detections, scheduled reports" ✔ Users
    'settings.manage',
    'detections.manage',
  ],
  administrators: [
    ...mdiReads,
    'alerts.write',
    'incidents.write',
    'settings.manage',
    'detections.manage',
    // "Change health issue status", "sensor management (download software, regenerate keys,
    // configure, delete)" — Administrators only
    'sensors.manage',
    // "updates", "data sources (directory services, SIEM, VPN, MDE)", "Delete workspace"
    'system.manage',
    // unified mapping: "Authorization and settings/Authorization/All permissions + Read"
    'users.manage',
    'audit.read',
  ],
};

/** Route permissions of a set of portal permissions. */
export function routePermissionsOfPortal(permissions: Iterable<PortalPermission>): Set<RoutePermission> {
  const out = new Set<RoutePermission>();
  for (const permission of permissions)
    for (const granted of portalPermissionGrants[permission]) out.add(granted);
  return out;
}

/** Route permissions of a set of API scopes. */
export function routePermissionsOfScopes(scopes: Iterable<ApiScope>): Set<RoutePermission> {
  const out = new Set<RoutePermission>();
  for (const scope of scopes) for (const granted of apiScopeGrants[scope]) out.add(granted);
  return out;
}

/** MDE's two access models for endpoint data (§5.1). Turning RBAC on cannot be undone. */
export const accessModes = ['basic', 'rbac'] as const;
export type AccessMode = (typeof accessModes)[number];

/** The directory roles §5.1 names (Entra roles in Microsoft's product, instance roles here). */
export const directoryRoles = ['global-administrator', 'security-administrator', 'security-reader'] as const;
export type DirectoryRole = (typeof directoryRoles)[number];

/**
 * Basic permissions (§5.1): Global and Security Administrators have full access (everything);
 * Security Readers are read-only ("view all alerts and related data, but no state changes").
 */
export const basicAccessLevels = {
  'full-access': portalPermissions,
  'read-only': ['viewData.securityOperations', 'viewData.vulnerabilityManagement'],
} as const satisfies Record<string, readonly PortalPermission[]>;
export type BasicAccessLevel = keyof typeof basicAccessLevels;

export function basicAccessLevelOf(role: DirectoryRole | undefined): BasicAccessLevel | undefined {
  if (role === 'global-administrator' || role === 'security-administrator') return 'full-access';
  if (role === 'security-reader') return 'read-only';
  return undefined;
}

/** An MDE RBAC role: portal permissions, given to the members of user groups (§5.1, §5.2). */
export interface MdeRole {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly permissions: readonly PortalPermission[];
  /** User-group ids whose members hold the role. */
  readonly userGroups: readonly string[];
}

/**
 * The built-in role RBAC mode starts with (§5.1): every permission and every device group. Its
 * members are the Global and Security Administrators; only it has "Manage portal system
 * settings" by default (§5.2).
 */
export const mdeAdministratorRole: MdeRole = {
  id: 'mde-administrator',
  name: 'Microsoft Defender for Endpoint administrator',
  description: 'Full permissions on all device groups; held by Global and Security Administrators',
  permissions: portalPermissions,
  userGroups: [],
};

/**
 * Starting points for custom roles, after the docs' tiering (§5.1): Tier 1 (local SOC) triages
 * and escalates; Tier 2 (regional SOC) also remediates; Tier 3 (global SOC) holds the five
 * permissions the docs list. Tier 1 and 2 contents are Palisade's reading of "triage" and
 * "remediate"; device groups give each tier its region.
 */
export const tierRoleTemplates: Readonly<Record<'tier1' | 'tier2' | 'tier3', readonly PortalPermission[]>> = {
  tier1: ['viewData.securityOperations', 'alertsInvestigation'],
  tier2: [
    'viewData.securityOperations',
    'alertsInvestigation',
    'activeRemediation.securityOperations',
    'liveResponse.basic',
  ],
  tier3: [
    'viewData.securityOperations',
    'alertsInvestigation',
    'activeRemediation.securityOperations',
    'managePortalSystemSettings',
    'manageSecuritySettings',
  ],
};
