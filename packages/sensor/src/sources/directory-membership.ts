// Group membership as the directory sync resolves it: the objects read over LDAP, the graph of
// `member` links (plus each account's primary group, which `member` never lists), transitive
// membership that survives cycles, and which objects are sensitive because they sit, directly
// or nested, in one of the built-in sensitive groups (or a configured one).
import { builtInSensitiveGroups } from '@palisade/detect';
import { sidDomain, sidRid } from './directory-identifiers.ts';

/** One user, computer or group as read from the directory, binary values already decoded. */
export interface DirectoryObject {
  readonly kind: 'user' | 'computer' | 'group';
  readonly dn: string;
  /** objectGUID, MS-DTYP §2.3.4.3 string form. */
  readonly guid: string;
  readonly sid?: string;
  readonly usnChanged: number;
  /** Text attributes by their LDAP name (lower case), values as the directory sent them. */
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

/** A member, direct or nested, of a sensitive group. */
export interface SensitiveEntity {
  readonly guid: string;
  readonly sid?: string;
  readonly dn: string;
  /** sAMAccountName. */
  readonly name: string;
  readonly kind: DirectoryObject['kind'];
  /** The sensitive groups it is in (sAMAccountName), sorted. */
  readonly via: readonly string[];
}

const key = (dn: string) => dn.toLowerCase();

/** The first value of an attribute. */
export function first(object: DirectoryObject, name: string): string | undefined {
  return object.attributes[name.toLowerCase()]?.[0];
}

/** All values of an attribute (empty when absent). */
export function all(object: DirectoryObject, name: string): readonly string[] {
  return object.attributes[name.toLowerCase()] ?? [];
}

/** The account name a row shows: sAMAccountName, else the CN. */
export function accountName(object: DirectoryObject): string {
  return first(object, 'sAMAccountName') ?? first(object, 'cn') ?? object.dn;
}

/** The groups and the links between them, read once per sync pass. */
export class MembershipGraph {
  private readonly groups = new Map<string, DirectoryObject>();
  private readonly groupsBySid = new Map<string, DirectoryObject>();
  /** member DN (lower case) → DNs of the groups listing it. */
  private readonly parents = new Map<string, string[]>();

  constructor(groups: readonly DirectoryObject[]) {
    for (const group of groups) {
      this.groups.set(key(group.dn), group);
      if (group.sid) this.groupsBySid.set(group.sid, group);
      for (const member of all(group, 'member')) {
        const list = this.parents.get(key(member));
        if (list) list.push(group.dn);
        else this.parents.set(key(member), [group.dn]);
      }
    }
  }

  group(dn: string): DirectoryObject | undefined {
    return this.groups.get(key(dn));
  }

  /** Every group, in DN order. */
  allGroups(): DirectoryObject[] {
    return [...this.groups.values()].sort(byDn);
  }

  /** The primary group of an account (primaryGroupID is a RID in the account's own domain). */
  primaryGroup(object: DirectoryObject): DirectoryObject | undefined {
    const rid = first(object, 'primaryGroupID');
    if (!rid || !object.sid) return undefined;
    return this.groupsBySid.get(`${sidDomain(object.sid)}-${rid}`);
  }

  /** The groups an object is in, directly or nested, in DN order; cycles end where they close. */
  groupsOf(object: DirectoryObject): DirectoryObject[] {
    const seen = new Map<string, DirectoryObject>();
    const queue: string[] = [...(this.parents.get(key(object.dn)) ?? [])];
    const primary = this.primaryGroup(object);
    if (primary) queue.push(primary.dn);
    while (queue.length > 0) {
      const dn = queue.pop() as string;
      const group = this.groups.get(key(dn));
      if (!group || seen.has(key(dn)) || key(dn) === key(object.dn)) continue;
      seen.set(key(dn), group);
      queue.push(...(this.parents.get(key(dn)) ?? []));
    }
    return [...seen.values()].sort(byDn);
  }

  /**
   * What sits under a group, directly or nested: the member DNs (accounts and groups, as
   * listed) and the groups among them including itself, whose primary-group members the
   * caller looks up separately.
   */
  below(groupDn: string): { members: Set<string>; groups: DirectoryObject[] } {
    const members = new Set<string>();
    const groups = new Map<string, DirectoryObject>();
    const queue = [groupDn];
    while (queue.length > 0) {
      const dn = queue.pop() as string;
      const group = this.groups.get(key(dn));
      if (!group || groups.has(key(dn))) continue;
      groups.set(key(dn), group);
      for (const member of all(group, 'member')) {
        members.add(member);
        queue.push(member);
      }
    }
    return { members, groups: [...groups.values()] };
  }
}

function byDn(a: DirectoryObject, b: DirectoryObject): number {
  const ka = key(a.dn);
  const kb = key(b.dn);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Whether a group is sensitive: a built-in one (by its well-known SID, or its RID in a domain,
 * or by name for those without either) or one of `extra` (names or SIDs, any case).
 */
export function isSensitiveGroup(group: DirectoryObject, extra: readonly string[] = []): boolean {
  const name = accountName(group).toLowerCase();
  const sid = group.sid;
  const rid = sid?.startsWith('S-1-5-21-') ? sidRid(sid) : undefined;
  for (const builtIn of builtInSensitiveGroups) {
    if (builtIn.sid !== undefined) {
      if (builtIn.sid === sid) return true;
    } else if (builtIn.rid !== undefined) {
      if (builtIn.rid === rid) return true;
    } else if (builtIn.name.toLowerCase() === name) return true;
  }
  return extra.some((e) => e.toLowerCase() === name || (sid !== undefined && e.toUpperCase() === sid));
}

/**
 * The sensitive entities among `objects` (accounts and groups): each object whose groups,
 * direct or nested, include a sensitive group. Sorted by GUID.
 */
export function findSensitiveEntities(
  graph: MembershipGraph,
  objects: Iterable<DirectoryObject>,
  extra: readonly string[] = [],
): SensitiveEntity[] {
  const entities = new Map<string, SensitiveEntity>();
  for (const object of objects) {
    const via = graph
      .groupsOf(object)
      .filter((g) => isSensitiveGroup(g, extra))
      .map(accountName)
      .sort();
    if (via.length === 0) continue;
    entities.set(object.guid, {
      guid: object.guid,
      ...(object.sid ? { sid: object.sid } : {}),
      dn: object.dn,
      name: accountName(object),
      kind: object.kind,
      via,
    });
  }
  return [...entities.values()].sort((a, b) => (a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : 0));
}
