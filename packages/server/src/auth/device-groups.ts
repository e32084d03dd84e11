// MDE device groups (defender-reference §5.3): ranked rules on device name, domain, OS platform
// and tags put each device in exactly one group, and a user's scope — the groups they may see —
// filters devices, alerts, incidents and hunting results in memory or in SQL.

/** Automation levels of a device group (§5.3). */
export const remediationLevels = [
  'no-automated-response',
  'semi-approval-all-folders',
  'semi-approval-non-temp-folders',
  'semi-approval-core-folders',
  'full',
] as const;
export type RemediationLevel = (typeof remediationLevels)[number];

/**
 * A group's matching rule. Values of one property are ORed, properties are ANDed (§5.3: "Rows of
 * the same type are ORed"; ANDing across types is how the MDE rule builder reads), at most 10
 * values per property. Comparisons ignore case.
 */
export interface DeviceGroupRule {
  /** Device-name patterns; `*` matches any run of characters, `?` one character. */
  readonly names?: readonly string[];
  /** DNS domains (`emea.contoso.local`); patterns as for names. */
  readonly domains?: readonly string[];
  /** `osPlatform` values (`Windows11`, `WindowsServer2022`, `Linux`, …), exact. */
  readonly osPlatforms?: readonly string[];
  /** Device tags (manual, dynamic or registry tags), exact. */
  readonly tags?: readonly string[];
}

export interface DeviceGroup {
  readonly id: string;
  /** Unique (§5.3). */
  readonly name: string;
  /** 1 is the highest; a device joins only the highest-ranked group it matches. */
  readonly rank: number;
  readonly description?: string;
  readonly remediationLevel: RemediationLevel;
  readonly rule: DeviceGroupRule;
  /** User groups that may see the group's devices; none means everyone with portal access (§5.3). */
  readonly userGroups: readonly string[];
}

/** The default group (§5.3): catches unmatched devices; it cannot be deleted or re-ranked. */
export interface UngroupedDevices {
  readonly remediationLevel: RemediationLevel;
  readonly userGroups: readonly string[];
}

export interface DeviceGroupConfig {
  readonly groups: readonly DeviceGroup[];
  readonly ungrouped: UngroupedDevices;
}

export const ungroupedDevicesId = 'ungrouped';
export const ungroupedDevicesName = 'Ungrouped devices (default)';

/** The facts about a device that rules look at (from the Machine entity, §4.4). */
export interface DeviceFacts {
  /** `computerDnsName`, e.g. `emea-ws01.emea.contoso.local`. */
  readonly name: string;
  /** DNS domain; when absent, the part of `name` after its first dot. */
  readonly domain?: string | undefined;
  readonly osPlatform?: string | undefined;
  readonly tags?: readonly string[] | undefined;
}

/** A group a device belongs to (what rows store as `rbacGroupId` / `rbacGroupName`). */
export interface DeviceGroupRef {
  readonly id: string;
  readonly name: string;
}

export const maxRuleValues = 10;

const patternCache = new Map<string, RegExp>();

function wildcard(pattern: string): RegExp {
  let regex = patternCache.get(pattern);
  if (regex === undefined) {
    const body = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${body}$`, 'i');
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, regex);
  }
  return regex;
}

function domainOf(device: DeviceFacts): string {
  if (device.domain !== undefined) return device.domain;
  const dot = device.name.indexOf('.');
  return dot < 0 ? '' : device.name.slice(dot + 1);
}

// A pattern without a dot is matched against the host name alone, so `emea-*` matches
// `emea-ws01.emea.contoso.local`; a pattern with a dot is matched against the whole DNS name.
function nameMatches(pattern: string, name: string): boolean {
  const subject = pattern.includes('.') ? name : (name.split('.')[0] ?? name);
  return wildcard(pattern).test(subject);
}

function some(values: readonly string[] | undefined, test: (value: string) => boolean): boolean | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return values.some(test);
}

/** Whether a device satisfies a rule. A rule with no values matches nothing. */
export function matchesRule(device: DeviceFacts, rule: DeviceGroupRule): boolean {
  const tags = (device.tags ?? []).map((t) => t.toLowerCase());
  const results = [
    some(rule.names, (p) => nameMatches(p, device.name)),
    some(rule.domains, (p) => wildcard(p).test(domainOf(device))),
    some(rule.osPlatforms, (p) => p.toLowerCase() === (device.osPlatform ?? '').toLowerCase()),
    some(rule.tags, (t) => tags.includes(t.toLowerCase())),
  ].filter((r) => r !== undefined);
  return results.length > 0 && results.every(Boolean);
}

function byRank(groups: readonly DeviceGroup[]): DeviceGroup[] {
  return [...groups].sort((a, b) => a.rank - b.rank);
}

/** The one group a device belongs to: the highest-ranked match, else Ungrouped devices. */
export function deviceGroupOf(device: DeviceFacts, config: DeviceGroupConfig): DeviceGroupRef {
  for (const group of byRank(config.groups)) {
    if (matchesRule(device, group.rule)) return { id: group.id, name: group.name };
  }
  return { id: ungroupedDevicesId, name: ungroupedDevicesName };
}

/** Group assignments for many devices at once (after a rule change, §5.3 "changes can take several minutes"). */
export function assignDeviceGroups<T extends DeviceFacts & { readonly id: string }>(
  devices: readonly T[],
  config: DeviceGroupConfig,
): Map<string, DeviceGroupRef> {
  const ranked = byRank(config.groups);
  const out = new Map<string, DeviceGroupRef>();
  for (const device of devices) {
    const group = ranked.find((g) => matchesRule(device, g.rule));
    out.set(
      device.id,
      group ? { id: group.id, name: group.name } : { id: ungroupedDevicesId, name: ungroupedDevicesName },
    );
  }
  return out;
}

export const deviceGroupProblemCodes = [
  'device-group/duplicate-id',
  'device-group/duplicate-name',
  'device-group/bad-rank',
  'device-group/duplicate-rank',
  'device-group/empty-rule',
  'device-group/too-many-values',
  'device-group/empty-value',
  'device-group/reserved',
] as const;
export type DeviceGroupProblemCode = (typeof deviceGroupProblemCodes)[number];

export interface DeviceGroupProblem {
  readonly code: DeviceGroupProblemCode;
  readonly group: string;
  readonly message: string;
}

/** Checks a device-group configuration; an empty list means it can be saved. */
export function validateDeviceGroups(config: DeviceGroupConfig): DeviceGroupProblem[] {
  const problems: DeviceGroupProblem[] = [];
  const ids = new Set<string>([ungroupedDevicesId]);
  const names = new Set<string>([ungroupedDevicesName.toLowerCase()]);
  const ranks = new Set<number>();
  for (const group of config.groups) {
    const add = (code: DeviceGroupProblemCode, message: string) =>
      problems.push({ code, group: group.name, message });
    if (group.id === ungroupedDevicesId)
      add('device-group/reserved', `the id "${ungroupedDevicesId}" is the default group's`);
    else if (ids.has(group.id)) add('device-group/duplicate-id', `id "${group.id}" is used by another group`);
    ids.add(group.id);
    if (names.has(group.name.toLowerCase()))
      add('device-group/duplicate-name', `name "${group.name}" is already used`);
    names.add(group.name.toLowerCase());
    if (!Number.isInteger(group.rank) || group.rank < 1) {
      add('device-group/bad-rank', `expected a rank that is a whole number from 1, found ${group.rank}`);
    } else if (ranks.has(group.rank))
      add('device-group/duplicate-rank', `rank ${group.rank} is used by another group`);
    ranks.add(group.rank);
    const properties = [
      ['names', group.rule.names],
      ['domains', group.rule.domains],
      ['osPlatforms', group.rule.osPlatforms],
      ['tags', group.rule.tags],
    ] as const;
    if (properties.every(([, values]) => values === undefined || values.length === 0)) {
      add(
        'device-group/empty-rule',
        'expected at least one value for device name, domain, OS platform or tag',
      );
    }
    for (const [property, values] of properties) {
      if (values !== undefined && values.length > maxRuleValues) {
        add(
          'device-group/too-many-values',
          `expected at most ${maxRuleValues} ${property}, found ${values.length}`,
        );
      }
      if (values?.some((v) => v.trim() === ''))
        add('device-group/empty-value', `${property} contains an empty value`);
    }
  }
  return problems;
}

/** A row that belongs to one device group (a device, an alert, an action…). */
export interface ScopedRow {
  readonly rbacGroupId?: string | null | undefined;
}

/** A parameterised SQL condition to AND into a query's WHERE clause. */
export interface SqlPredicate {
  readonly sql: string;
  readonly params: readonly string[];
}

export interface ScopeSqlOptions {
  /** Whether the column holds group ids (state store) or names (`MachineGroup` in hunting tables). Default `id`. */
  readonly by?: 'id' | 'name';
  /** Placeholder for the i-th parameter (0-based); `?` by default, `(i) => '$' + (i + 1)` for PostgreSQL. */
  readonly placeholder?: (index: number) => string;
}

/**
 * The device groups a principal may see. Unrestricted scopes see every row, including rows with
 * no device group; restricted scopes see only rows whose group is in the scope — a row with no
 * group is hidden from them, so nothing unattributed leaks across regions.
 */
export interface Scope {
  readonly unrestricted: boolean;
  readonly groups: readonly DeviceGroupRef[];
  /** Whether a row of one device group is visible. */
  canSee(row: ScopedRow): boolean;
  /** Whether something spanning several groups (an incident) is visible: any of its groups is. */
  canSeeAny(groupIds: Iterable<string | null | undefined>): boolean;
  /** The visible rows, in order. */
  filterDevices<T extends ScopedRow>(rows: readonly T[]): T[];
  /** `column IN (…)` over the visible groups, for queries on alerts, incidents, devices and hunting tables. */
  deviceScopeSql(column: string, options?: ScopeSqlOptions): SqlPredicate;
}

// A column reference that can be spliced into SQL: dotted identifiers or a double-quoted name.
const columnPattern = /^(?:[A-Za-z_][A-Za-z0-9_]*|"[^"]+")(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|"[^"]+"))*$/;

/** A scope over the given groups, or over everything. */
export function createScope(unrestricted: boolean, groups: readonly DeviceGroupRef[]): Scope {
  const ids = new Set(groups.map((g) => g.id));
  const visible = (id: string | null | undefined) => unrestricted || (id != null && ids.has(id));
  return {
    unrestricted,
    groups,
    canSee: (row) => visible(row.rbacGroupId),
    canSeeAny(groupIds) {
      for (const id of groupIds) if (visible(id)) return true;
      return false;
    },
    filterDevices: (rows) => rows.filter((row) => visible(row.rbacGroupId)),
    deviceScopeSql(column, options = {}) {
      // The column is code, never user input; refuse anything that is not a plain reference.
      if (!columnPattern.test(column))
        throw new TypeError(`expected a column reference, found ${JSON.stringify(column)}`);
      if (unrestricted) return { sql: '1 = 1', params: [] };
      if (groups.length === 0) return { sql: '1 = 0', params: [] };
      const placeholder = options.placeholder ?? (() => '?');
      const params = groups.map((g) => (options.by === 'name' ? g.name : g.id));
      return { sql: `${column} IN (${params.map((_, i) => placeholder(i)).join(', ')})`, params };
    },
  };
}

/** Every group of a configuration, the default one included. */
export function allDeviceGroups(config: DeviceGroupConfig): DeviceGroupRef[] {
  return [
    ...byRank(config.groups).map((g) => ({ id: g.id, name: g.name })),
    { id: ungroupedDevicesId, name: ungroupedDevicesName },
  ];
}

/**
 * The groups visible to a member of `userGroups` (§5.3 "User access"): those assigned to one of
 * the user's groups, plus those assigned to no group at all.
 */
export function visibleDeviceGroups(
  config: DeviceGroupConfig,
  userGroups: readonly string[],
): DeviceGroupRef[] {
  const mine = new Set(userGroups);
  const open = (assigned: readonly string[]) => assigned.length === 0 || assigned.some((g) => mine.has(g));
  const out = byRank(config.groups)
    .filter((g) => open(g.userGroups))
    .map((g) => ({ id: g.id, name: g.name }));
  if (open(config.ungrouped.userGroups)) out.push({ id: ungroupedDevicesId, name: ungroupedDevicesName });
  return out;
}
