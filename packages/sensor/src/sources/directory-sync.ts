// One directory sync pass, from a checkpoint to the chunks that carry it forward. The first pass
// (or one against a different domain controller) reads everything; later ones read what changed
// after the checkpoint's uSN (the DC's uSNChanged counter), plus the accounts under a group
// whose membership changed, plus the accounts that entered or left the sensitive entities.
// Items are delivered in (key, GUID) order, so every chunk's checkpoint is a resume point and a
// re-run from the same checkpoint against the same directory yields the same rows. LDAP does not
// say which member of a changed group was added, so every account under it is re-sent; an
// account removed from a group shows at its next change (sensitive groups: at once).
import type { SourceChunk } from '../source.ts';
import { guidFilterValue, parseGeneralizedTime, sidRid } from './directory-identifiers.ts';
import { anyOf, type DirectoryIdentity, type DirectoryReader } from './directory-ldap.ts';
import {
  type DirectoryObject,
  findSensitiveEntities,
  first,
  isSensitiveGroup,
  MembershipGraph,
  type SensitiveEntity,
} from './directory-membership.ts';
import { directoryRows, type SyncItem, type SyncReason } from './directory-rows.ts';

/** Where the directory sync stands: a type alias, so it is plain JSON (a Checkpoint). */
export type DirectoryCheckpoint = {
  /** The domain controller these uSNs belong to; another one means a full sync. */
  readonly invocationId: string;
  readonly dnsHostName: string;
  /** Every change up to this uSN has been delivered. */
  readonly usn: number;
  /** GUIDs of the sensitive entities as of `usn`, sorted. */
  readonly sensitive: readonly string[];
  /** Within the pass after `usn`: the last item delivered. */
  readonly after?: { readonly key: number; readonly guid: string };
};

/** A planned pass: its items in delivery order, the checkpoint after it, the sensitive entities. */
export interface SyncPass {
  readonly full: boolean;
  readonly items: readonly SyncItem[];
  readonly checkpoint: DirectoryCheckpoint;
  readonly sensitive: readonly SensitiveEntity[];
  readonly graph: MembershipGraph;
}

const batch = 50;

/** Reads what the pass after `from` must deliver (see the file header). */
export async function planSyncPass(
  reader: DirectoryReader,
  from: DirectoryCheckpoint | undefined,
  extraSensitive: readonly string[] = [],
): Promise<SyncPass> {
  const id = reader.identity;
  const sameDc =
    from !== undefined && from.invocationId === id.invocationId && from.dnsHostName === id.dnsHostName;
  const mark = sameDc ? from.usn : 0;
  const full = mark === 0;
  const highest = id.highestCommittedUsn;
  const inPass = (o: DirectoryObject) => o.usnChanged > mark && o.usnChanged <= highest;

  const groups = await reader.groups();
  const graph = new MembershipGraph(groups);
  const known = new Map<string, DirectoryObject>();
  const remember = (list: readonly DirectoryObject[]) => {
    for (const o of list) known.set(o.dn.toLowerCase(), o);
    return list;
  };
  const changedAccounts = remember(
    mark < highest ? await reader.accounts(`(uSNChanged>=${mark + 1})(uSNChanged<=${highest})`) : [],
  );
  const changedGroups = groups.filter(inPass);

  // Accounts listed under some groups, or having one of them as primary group.
  const accountsUnder = async (under: readonly { members: Set<string>; groups: DirectoryObject[] }[]) => {
    const dns = new Set<string>();
    const rids = new Set<number>();
    for (const { members, groups: nested } of under) {
      for (const dn of members) if (!graph.group(dn)) dns.add(dn);
      for (const g of nested) {
        const rid = g.sid ? sidRid(g.sid) : undefined;
        if (rid !== undefined) rids.add(rid);
      }
    }
    const found = new Map<string, DirectoryObject>();
    const missing = [...dns].filter((dn) => {
      const o = known.get(dn.toLowerCase());
      if (o) found.set(o.guid, o);
      return !o;
    });
    for (let i = 0; i < missing.length; i += batch)
      for (const o of remember(
        await reader.accounts(anyOf('distinguishedName', missing.slice(i, i + batch))),
      ))
        found.set(o.guid, o);
    const ridList = [...rids].sort((a, b) => a - b).map(String);
    for (let i = 0; i < ridList.length; i += batch)
      for (const o of remember(await reader.accounts(anyOf('primaryGroupID', ridList.slice(i, i + batch)))))
        found.set(o.guid, o);
    return [...found.values()];
  };

  const sensitiveGroups = groups.filter((g) => isSensitiveGroup(g, extraSensitive));
  const underSensitive = sensitiveGroups.map((g) => graph.below(g.dn));
  const candidates = [
    ...(await accountsUnder(underSensitive)),
    ...underSensitive.flatMap((u) => [...u.members].flatMap((dn) => graph.group(dn) ?? [])),
  ];
  const sensitive = findSensitiveEntities(graph, candidates, extraSensitive);

  const items = new Map<
    string,
    { object: DirectoryObject; key: number; timestamp: string; reasons: Set<SyncReason> }
  >();
  const add = (object: DirectoryObject, key: number, when: string | undefined, reason: SyncReason) => {
    const timestamp = when ?? changedAt(object);
    const item = items.get(object.guid);
    if (!item) {
      items.set(object.guid, { object, key, timestamp, reasons: new Set([reason]) });
      return;
    }
    item.reasons.add(reason);
    if (key > item.key || (key === item.key && timestamp > item.timestamp)) {
      item.key = key;
      item.timestamp = timestamp;
    }
  };
  for (const o of [...changedAccounts, ...changedGroups]) add(o, o.usnChanged, undefined, 'changed');

  if (!full) {
    // A membership change reaches every account under the changed group, however deep.
    for (const group of changedGroups) {
      for (const account of await accountsUnder([graph.below(group.dn)]))
        add(account, group.usnChanged, changedAt(group), 'membership');
    }
    // Entering or leaving the sensitive entities is a change of its own, delivered with the
    // last group change of the pass (removals are caused by one), so keys stay reproducible.
    const before = new Set(from?.sensitive ?? []);
    const now = new Map(sensitive.map((e) => [e.guid, e]));
    const moved = [...new Set([...before, ...now.keys()])].filter((g) => before.has(g) !== now.has(g)).sort();
    if (moved.length > 0) {
      const last = [...changedGroups, ...changedAccounts].sort((a, b) => b.usnChanged - a.usnChanged)[0];
      const byGuid = new Map([...known.values(), ...groups].map((o) => [o.guid, o]));
      const missing = moved.filter((g) => !byGuid.has(g));
      for (let i = 0; i < missing.length; i += batch) {
        const filter = anyOf('objectGUID', missing.slice(i, i + batch), guidFilterValue);
        for (const o of await reader.accounts(filter)) byGuid.set(o.guid, o);
      }
      for (const guid of moved) {
        const object = byGuid.get(guid);
        // gone from the directory: nothing to describe (deleted objects are not read)
        if (object) add(object, last?.usnChanged ?? mark, last ? changedAt(last) : undefined, 'sensitivity');
      }
    }
  }

  const ordered = [...items.values()]
    .map((i) => ({ object: i.object, key: i.key, timestamp: i.timestamp, reasons: [...i.reasons].sort() }))
    .sort(
      (a, b) => a.key - b.key || (a.object.guid < b.object.guid ? -1 : a.object.guid > b.object.guid ? 1 : 0),
    );
  const after = sameDc ? from.after : undefined;
  return {
    full,
    items: after
      ? ordered.filter((i) => i.key > after.key || (i.key === after.key && i.object.guid > after.guid))
      : ordered,
    checkpoint: {
      invocationId: id.invocationId,
      dnsHostName: id.dnsHostName,
      usn: highest,
      sensitive: sensitive.map((e) => e.guid),
    },
    sensitive,
    graph,
  };
}

/** whenChanged as ISO 8601 (the epoch when the directory left it out). */
function changedAt(object: DirectoryObject): string {
  return parseGeneralizedTime(first(object, 'whenChanged') ?? '') ?? new Date(0).toISOString();
}

/**
 * The chunks of a planned pass, at most `maxRecords` objects each; every checkpoint but the last
 * resumes inside the pass, the last one after it. A pass with nothing to deliver still moves the
 * checkpoint when it changed.
 */
export function* passChunks(
  pass: SyncPass,
  from: DirectoryCheckpoint | undefined,
  identity: DirectoryIdentity,
  maxRecords: number,
): Generator<SourceChunk<DirectoryCheckpoint>> {
  const context = {
    dc: identity.dnsHostName,
    domain: identity.domain,
    graph: pass.graph,
    sensitive: new Map(pass.sensitive.map((e) => [e.guid, e])),
  };
  const base: DirectoryCheckpoint =
    from && from.invocationId === identity.invocationId && from.dnsHostName === identity.dnsHostName
      ? {
          invocationId: from.invocationId,
          dnsHostName: from.dnsHostName,
          usn: from.usn,
          sensitive: from.sensitive,
        }
      : { invocationId: identity.invocationId, dnsHostName: identity.dnsHostName, usn: 0, sensitive: [] };
  for (let i = 0; i < pass.items.length; i += maxRecords) {
    const part = pass.items.slice(i, i + maxRecords);
    const last = part[part.length - 1] as SyncItem;
    const final = i + maxRecords >= pass.items.length;
    yield {
      rows: part.flatMap((item) => directoryRows(item, context)),
      events: [],
      checkpoint: final ? pass.checkpoint : { ...base, after: { key: last.key, guid: last.object.guid } },
    };
  }
  if (pass.items.length === 0 && JSON.stringify(from) !== JSON.stringify(pass.checkpoint))
    yield { rows: [], events: [], checkpoint: pass.checkpoint };
}
