// The incident grouper: an alert joins an open incident when it shares an entity (account, device,
// IP, file) with one of that incident's alerts within a window, incidents it bridges are merged,
// and analysts merge, assign, classify, comment on and resolve incidents. Defender XDR's rules
// (reference §6.2) where it states them; the state is plain data a store can keep as JSON.
import { isIP } from 'node:net';
import { canonicalAccount, canonicalHost } from '@palisade/detect';
import {
  type AlertCategory,
  type AuditEntry,
  alertCategories,
  type Checked,
  type IncidentError,
  type IncidentFacets,
  type IncidentRecord,
  type MdeAlert,
  maxSeverity,
} from './model.ts';
import { type Updated, updateIncident } from './update.ts';

/** Defender's default correlation window, and Palisade's. */
export const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The name audit entries give automatic changes (Defender: "Microsoft Defender XDR - alert correlation"). */
export const CORRELATION_ACTOR = 'Palisade alert correlation';

/** At most this many incidents are merged by hand at once (§6.2 "Manual merge: up to 5"). */
export const MAX_MANUAL_MERGE = 5;

export interface CorrelationOptions {
  /** How far apart two alerts naming one entity may be and still share an incident (ms). */
  readonly windowMs?: number;
  /**
   * How far behind the latest alert an alert may arrive and still find every partner (ms); entries
   * older than window + lateness before the latest alert are pruned. Default: the window.
   */
  readonly latenessMs?: number;
}

/** Times (ms) at which one incident's alerts named one entity: alerts chained no more than two windows apart. */
export interface EntitySpan {
  readonly incidentId: number;
  readonly first: number;
  readonly last: number;
}

/** Everything correlation keeps between alerts; plain data (JSON round-trips it). */
export interface CorrelationState {
  nextIncidentId: number;
  /** The latest alert activity seen, ms since the epoch. */
  watermark: number | null;
  /** The watermark when entries were last pruned. */
  prunedAt: number | null;
  /** Incidents that can still take alerts or be merged automatically, by id. */
  incidents: Record<string, IncidentRecord>;
  /** Entity key (see `correlationKeys`) → when which incidents' alerts named it. */
  entities: Record<string, EntitySpan[]>;
}

export function emptyCorrelationState(firstIncidentId = 1): CorrelationState {
  return { nextIncidentId: firstIncidentId, watermark: null, prunedAt: null, incidents: {}, entities: {} };
}

/** What an operation changed: incidents as they now are, alerts now in another incident, audit entries. */
export interface IncidentChanges {
  readonly incidents: readonly IncidentRecord[];
  readonly alertLinks: readonly { readonly alertId: string; readonly incidentId: number }[];
  readonly audit: readonly AuditEntry[];
}

/** An alert's incident, and the changes that put it there. */
export interface Correlated extends IncidentChanges {
  readonly incidentId: number;
}

/** The store's copy of an incident correlation no longer holds (closed long ago, or quiet). */
export type IncidentLookup = (incidentId: number) => IncidentRecord | undefined;

/**
 * Groups alerts into incidents and applies analysts' operations. Give it alerts as they arrive
 * (out of order by up to `latenessMs`); persist what each call returns, and `state` when you like.
 */
export class IncidentCorrelator {
  readonly state: CorrelationState;
  readonly windowMs: number;
  readonly latenessMs: number;

  constructor(state: CorrelationState = emptyCorrelationState(), options: CorrelationOptions = {}) {
    this.state = state;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.latenessMs = options.latenessMs ?? this.windowMs;
  }

  /** Entity entries held: bounded by pruning. */
  get size(): number {
    let n = 0;
    for (const spans of Object.values(this.state.entities)) n += spans.length;
    return n;
  }

  /**
   * Puts a new alert (`incidentId` null) into an incident: the oldest open incident one of whose
   * alerts named one of its entities within the window, merging any others it bridges, or a new
   * one. An alert already in an incident is left there.
   */
  add(alert: MdeAlert, at: string = alert.alertCreationTime): Correlated {
    if (alert.incidentId !== null) {
      return { incidentId: alert.incidentId, incidents: [], alertLinks: [], audit: [] };
    }
    const first = Date.parse(alert.firstEventTime);
    const last = Date.parse(alert.lastEventTime);
    const keys = correlationKeys(alert);
    const w = this.windowMs;
    const candidates = new Set<number>();
    for (const key of keys) {
      for (const s of this.state.entities[key] ?? []) {
        const incident = this.state.incidents[s.incidentId];
        const near = s.first - w <= last && first <= s.last + w;
        if (near && incident && isOpen(incident)) candidates.add(s.incidentId);
      }
    }
    const [oldest, ...others] = [...candidates].sort((a, b) => a - b);
    const incidents: IncidentRecord[] = [];
    const alertLinks: { alertId: string; incidentId: number }[] = [];
    const audit: AuditEntry[] = [];
    let target: IncidentRecord;
    if (oldest === undefined) {
      target = newIncident(this.state.nextIncidentId++, alert, at);
      audit.push({
        actor: CORRELATION_ACTOR,
        action: 'createIncident',
        target: `incident:${target.incidentId}`,
        before: null,
        after: { incidentName: target.incidentName, severity: target.severity, alertId: alert.id },
        at,
      });
    } else {
      target = this.state.incidents[oldest] as IncidentRecord;
      // Defender merges only open incidents with one owner and one verdict (§6.2 "No merge when").
      const mergeable = others.flatMap((id) => {
        const other = this.state.incidents[id] as IncidentRecord;
        return sameOwnerAndVerdict(target, other) ? [other] : [];
      });
      if (mergeable.length > 0) {
        const merged = this.mergeInto(target, mergeable, CORRELATION_ACTOR, at);
        target = merged.target;
        incidents.push(...merged.sources);
        alertLinks.push(...merged.alertLinks);
        audit.push(...merged.audit);
      }
      const before = { severity: target.severity, incidentName: target.incidentName };
      const facets = mergeFacets(target.facets, facetsOf(alert));
      target = {
        ...target,
        alertIds: [...target.alertIds, alert.id],
        severity: maxSeverity(target.severity, alert.severity),
        facets,
        incidentName: incidentName(facets),
        lastUpdateTime: at,
      };
      const changed = (['severity', 'incidentName'] as const).filter((k) => before[k] !== target[k]);
      audit.push({
        actor: CORRELATION_ACTOR,
        action: 'linkAlert',
        target: `incident:${target.incidentId}`,
        before: Object.fromEntries(changed.map((k) => [k, before[k]])),
        after: { alertId: alert.id, ...Object.fromEntries(changed.map((k) => [k, target[k]])) },
        at,
      });
    }
    this.state.incidents[target.incidentId] = target;
    incidents.push(target);
    alertLinks.push({ alertId: alert.id, incidentId: target.incidentId });
    if (!Number.isNaN(first) && !Number.isNaN(last)) {
      for (const key of keys) this.addSpan(key, target.incidentId, first, last);
      // A sensor whose clock runs ahead must not make every other alert look late and prune all:
      // the watermark never passes the time the alert is handled.
      const handled = Date.parse(at);
      const seen = Number.isNaN(handled) ? last : Math.min(last, handled);
      this.state.watermark = Math.max(this.state.watermark ?? seen, seen);
    }
    // Pruning walks every entry, so it runs once per hour of activity at most (a 24th of the default window).
    if (
      this.state.watermark !== null &&
      this.state.watermark - (this.state.prunedAt ?? -Infinity) >= w / 24
    ) {
      this.prune();
    }
    return { incidentId: target.incidentId, incidents, alertLinks, audit };
  }

  /**
   * Forgets entries too old for any alert arriving within `latenessMs` to meet, and incidents left
   * with none (they can take no more alerts; the store keeps them).
   */
  prune(): void {
    const { watermark } = this.state;
    if (watermark === null) return;
    const horizon = watermark - this.windowMs - this.latenessMs;
    const live = new Set<number>();
    for (const [key, spans] of Object.entries(this.state.entities)) {
      const kept = spans.filter((s) => s.last >= horizon);
      if (kept.length === 0) delete this.state.entities[key];
      else {
        this.state.entities[key] = kept;
        for (const s of kept) live.add(s.incidentId);
      }
    }
    for (const id of Object.keys(this.state.incidents)) {
      if (!live.has(Number(id))) delete this.state.incidents[id];
    }
    this.state.prunedAt = watermark;
  }

  /**
   * Merges incidents by hand (up to five, §6.2): the oldest (lowest id) takes the others' alerts
   * and tags; they become Redirected to it. Resolved incidents, and incidents classified or
   * determined differently, are not merged, as in Defender; owners may differ (the target's stays).
   */
  merge(
    incidentIds: readonly number[],
    actor: string,
    at: string,
    lookup: IncidentLookup = () => undefined,
  ): Checked<IncidentChanges> {
    const ids = [...new Set(incidentIds)].sort((a, b) => a - b);
    const fail = (code: IncidentError['code'], message: string): Checked<IncidentChanges> => ({
      errors: [{ code, property: 'incidentIds', message }],
    });
    if (ids.length < 2 || ids.length > MAX_MANUAL_MERGE) {
      return fail(
        'incidents/merge-count',
        `expected 2 to ${MAX_MANUAL_MERGE} different incidents, found ${ids.length}`,
      );
    }
    const found: IncidentRecord[] = [];
    for (const id of ids) {
      const incident = this.state.incidents[id] ?? lookup(id);
      if (!incident) return fail('incidents/not-found', `incident ${id} does not exist`);
      if (incident.status === 'Redirected') {
        return fail(
          'incidents/redirected',
          `incident ${id} was merged into incident ${incident.redirectIncidentId}`,
        );
      }
      if (!isOpen(incident)) {
        return fail('incidents/merge-closed', `incident ${id} is ${incident.status}; reopen it first`);
      }
      found.push(incident);
    }
    const [target, ...sources] = found as [IncidentRecord, ...IncidentRecord[]];
    const conflict = sources.find(
      (s) => s.classification !== target.classification || s.determination !== target.determination,
    );
    if (conflict) {
      return fail(
        'incidents/merge-conflict',
        `incident ${conflict.incidentId} is classified ${conflict.classification ?? 'Unknown'}/${conflict.determination ?? 'NotAvailable'}, incident ${target.incidentId} ${target.classification ?? 'Unknown'}/${target.determination ?? 'NotAvailable'}`,
      );
    }
    const merged = this.mergeInto(target, sources, actor, at);
    this.state.incidents[target.incidentId] = merged.target;
    return {
      value: {
        incidents: [merged.target, ...merged.sources],
        alertLinks: merged.alertLinks,
        audit: merged.audit,
      },
      errors: [],
    };
  }

  /** Applies a `PATCH /api/incidents/{id}` body (see `checkIncidentPatch`). */
  update(
    incidentId: number,
    body: unknown,
    actor: string,
    at: string,
    lookup: IncidentLookup = () => undefined,
  ): Checked<IncidentChanges> {
    const incident = this.state.incidents[incidentId] ?? lookup(incidentId);
    if (!incident) {
      return {
        errors: [
          {
            code: 'incidents/not-found',
            property: 'incidentId',
            message: `incident ${incidentId} does not exist`,
          },
        ],
      };
    }
    const updated: Checked<Updated<IncidentRecord>> = updateIncident(incident, body, actor, at);
    if (!updated.value) return { errors: updated.errors };
    const { record, audit } = updated.value;
    if (this.state.incidents[incidentId]) this.state.incidents[incidentId] = record;
    return { value: { incidents: audit.length > 0 ? [record] : [], alertLinks: [], audit }, errors: [] };
  }

  assign(incidentId: number, assignedTo: string | null, actor: string, at: string, lookup?: IncidentLookup) {
    return this.update(incidentId, { assignedTo }, actor, at, lookup);
  }

  classify(
    incidentId: number,
    classification: string,
    determination: string | undefined,
    actor: string,
    at: string,
    lookup?: IncidentLookup,
  ) {
    return this.update(
      incidentId,
      determination === undefined ? { classification } : { classification, determination },
      actor,
      at,
      lookup,
    );
  }

  comment(incidentId: number, comment: string, actor: string, at: string, lookup?: IncidentLookup) {
    return this.update(incidentId, { comment }, actor, at, lookup);
  }

  /** Resolves an incident; it takes no new alerts after that (the next related alert starts one). */
  resolve(incidentId: number, actor: string, at: string, lookup?: IncidentLookup) {
    return this.update(incidentId, { status: 'Resolved' }, actor, at, lookup);
  }

  /** Makes a resolved incident Active again; within the window it takes related alerts again. */
  reopen(incidentId: number, actor: string, at: string, lookup?: IncidentLookup) {
    return this.update(incidentId, { status: 'Active' }, actor, at, lookup);
  }

  private mergeInto(target: IncidentRecord, sources: readonly IncidentRecord[], actor: string, at: string) {
    let t = target;
    const redirected: IncidentRecord[] = [];
    const alertLinks: { alertId: string; incidentId: number }[] = [];
    const audit: AuditEntry[] = [];
    const before = { severity: t.severity, incidentName: t.incidentName, tags: t.tags };
    for (const s of sources) {
      t = {
        ...t,
        alertIds: [...t.alertIds, ...s.alertIds],
        tags: [...new Set([...t.tags, ...s.tags])],
        severity: maxSeverity(t.severity, s.severity),
        facets: mergeFacets(t.facets, s.facets),
      };
      // §6.2: the source's alerts and tags move to the target; it is tagged Redirected and closed.
      const r: IncidentRecord = {
        ...s,
        status: 'Redirected',
        redirectIncidentId: t.incidentId,
        tags: ['Redirected'],
        alertIds: [],
        lastUpdateTime: at,
      };
      redirected.push(r);
      for (const alertId of s.alertIds) alertLinks.push({ alertId, incidentId: t.incidentId });
      audit.push({
        actor,
        action: 'redirectIncident',
        target: `incident:${s.incidentId}`,
        before: { status: s.status, redirectIncidentId: null, tags: [...s.tags] },
        after: { status: r.status, redirectIncidentId: t.incidentId, tags: [...r.tags] },
        at,
      });
      this.repoint(s.incidentId, t.incidentId);
      delete this.state.incidents[s.incidentId];
    }
    t = { ...t, incidentName: incidentName(t.facets), lastUpdateTime: at };
    audit.unshift({
      actor,
      action: 'mergeIncidents',
      target: `incident:${t.incidentId}`,
      before: { ...before, tags: [...before.tags] },
      after: {
        severity: t.severity,
        incidentName: t.incidentName,
        tags: [...t.tags],
        mergedIncidentIds: sources.map((s) => s.incidentId),
      },
      at,
    });
    return { target: t, sources: redirected, alertLinks, audit };
  }

  /** Moves a merged incident's entries to the incident it was merged into. */
  private repoint(from: number, to: number): void {
    for (const [key, spans] of Object.entries(this.state.entities)) {
      const moving = spans.filter((s) => s.incidentId === from);
      if (moving.length === 0) continue;
      this.state.entities[key] = spans.filter((s) => s.incidentId !== from);
      for (const s of moving) this.addSpan(key, to, s.first, s.last);
    }
  }

  /**
   * Records that an incident's alert named an entity over [first, last]. Spans of one incident
   * whose gap is at most two windows are joined: a later alert within a window of the joined span
   * is then within a window of one of its alerts, so the test stays exact while spans stay few.
   */
  private addSpan(key: string, incidentId: number, first: number, last: number): void {
    const reach = 2 * this.windowMs;
    let lo = first;
    let hi = last;
    const kept: EntitySpan[] = [];
    for (const s of this.state.entities[key] ?? []) {
      if (s.incidentId === incidentId && s.first - reach <= hi && lo <= s.last + reach) {
        lo = Math.min(lo, s.first);
        hi = Math.max(hi, s.last);
      } else kept.push(s);
    }
    kept.push({ incidentId, first: lo, last: hi });
    this.state.entities[key] = kept;
  }
}

function isOpen(incident: IncidentRecord): boolean {
  return incident.status === 'Active' || incident.status === 'InProgress';
}

function sameOwnerAndVerdict(a: IncidentRecord, b: IncidentRecord): boolean {
  return (
    a.assignedTo === b.assignedTo &&
    a.classification === b.classification &&
    a.determination === b.determination
  );
}

function newIncident(incidentId: number, alert: MdeAlert, at: string): IncidentRecord {
  const facets = facetsOf(alert);
  return {
    incidentId,
    redirectIncidentId: null,
    incidentName: incidentName(facets),
    createdTime: at,
    lastUpdateTime: at,
    assignedTo: null,
    classification: null,
    determination: null,
    status: 'Active',
    severity: maxSeverity('Informational', alert.severity),
    tags: [],
    comments: [],
    alertIds: [alert.id],
    facets,
  };
}

// ─── Entities ────────────────────────────────────────────────────────────────────────────────

/**
 * Values that name no one in particular and would join unrelated alerts: well-known service
 * accounts and SIDs, loopback and unspecified addresses, and the names Windows clients put in NTLM
 * requests instead of their own ("Workstation", "MSTSC", reference §1.1).
 */
const anonymous = new Set([
  'user:',
  'user:-',
  'user:anonymous logon',
  'user:system',
  'user:local service',
  'user:network service',
  'user:s-1-0-0',
  'user:s-1-5-7',
  'user:s-1-5-18',
  'user:s-1-5-19',
  'user:s-1-5-20',
  'machine:',
  'machine:-',
  'machine:localhost',
  'machine:workstation',
  'machine:mstsc',
  'ip:',
  'ip:-',
  'ip:127.0.0.1',
  'ip:::1',
  'ip:0.0.0.0',
  'ip:::',
]);

/**
 * The keys an alert is correlated on, compared canonically: accounts by name without domain, case
 * (`CORP\alice`, `alice@corp.lab.test` and `Alice` are one) or by SID; devices by host name
 * without DNS suffix; IPs as written, IPv4-mapped IPv6 as IPv4; files by SHA-256, SHA-1 or full
 * path. Devices and IPs an alert was aimed at (Destination) are left out: identity alerts name the
 * domain controller they were sent to, and every alert naming it would otherwise be one incident.
 */
export function correlationKeys(alert: MdeAlert): string[] {
  const keys = new Set<string>();
  for (const e of alert.evidence) {
    switch (e.entityType) {
      case 'User':
        if (e.userSid) keys.add(`user:${e.userSid.toLowerCase()}`);
        if (e.accountName) keys.add(`user:${canonicalAccount(e.accountName)}`);
        else if (e.userPrincipalName) keys.add(`user:${canonicalAccount(e.userPrincipalName)}`);
        break;
      case 'Machine':
        if (e.evidenceDirection !== 'Destination' && e.deviceDnsName) {
          keys.add(`machine:${canonicalHost(e.deviceDnsName)}`);
        }
        break;
      case 'Ip':
        if (e.evidenceDirection !== 'Destination' && e.ipAddress) keys.add(`ip:${canonicalIp(e.ipAddress)}`);
        break;
      case 'File':
      case 'Process':
        if (e.sha256) keys.add(`file:sha256:${e.sha256.toLowerCase()}`);
        else if (e.sha1) keys.add(`file:sha1:${e.sha1.toLowerCase()}`);
        else if (e.fileName && e.filePath)
          keys.add(`file:path:${joinPath(e.filePath, e.fileName).toLowerCase()}`);
        break;
      default:
        break;
    }
  }
  return [...keys].filter((k) => !anonymous.has(k));
}

function canonicalIp(ip: string): string {
  const n = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(n)?.[1];
  return mapped ?? (isIP(n) === 0 ? n.replace(/^\[|\]$/g, '') : n);
}

function joinPath(folder: string, name: string): string {
  return /[\\/]$/.test(folder) ? `${folder}${name}` : `${folder}${folder.includes('/') ? '/' : '\\'}${name}`;
}

// ─── Names ───────────────────────────────────────────────────────────────────────────────────

const FACET_CAP = 2;

/** What one alert adds to its incident's name. */
export function facetsOf(alert: MdeAlert): IncidentFacets {
  const impacted = alert.evidence.filter((e) => e.evidenceRole === 'Impacted');
  const machines = impacted.flatMap((e) =>
    e.entityType === 'Machine' && e.deviceDnsName ? [canonicalHost(e.deviceDnsName)] : [],
  );
  const users = impacted.flatMap((e) =>
    e.entityType === 'User'
      ? [(e.userSid ?? canonicalAccount(e.accountName ?? e.userPrincipalName ?? '')).toLowerCase()]
      : [],
  );
  return {
    titles: [alert.title],
    categories: [alert.category],
    machines: [...new Set(machines)].slice(0, FACET_CAP),
    users: [...new Set(users.filter(Boolean))].slice(0, FACET_CAP),
    detectionSources: [alert.detectionSource],
  };
}

/** What an incident's alerts add to its name: for an incident correlation no longer holds. */
export function facetsOfAlerts(alerts: readonly MdeAlert[]): IncidentFacets {
  const none: IncidentFacets = { titles: [], categories: [], machines: [], users: [], detectionSources: [] };
  return alerts.map(facetsOf).reduce(mergeFacets, none);
}

function mergeFacets(a: IncidentFacets, b: IncidentFacets): IncidentFacets {
  const capped = <T>(x: readonly T[], y: readonly T[]) => [...new Set([...x, ...y])].slice(0, FACET_CAP);
  return {
    titles: capped(a.titles, b.titles),
    // Categories are few (16) and the name needs the earliest and latest stage, so all are kept.
    categories: [...new Set([...a.categories, ...b.categories])],
    machines: capped(a.machines, b.machines),
    users: capped(a.users, b.users),
    detectionSources: capped(a.detectionSources, b.detectionSources),
  };
}

/**
 * An incident's name in Defender's style (the logic is proprietary, §6.2; these forms are
 * Defender's common ones): one kind of alert gives its title ("Suspected DCSync attack … involving
 * one user"); several give the earliest and latest ATT&CK stages ("Multi-stage incident involving
 * Initial access & Command and control on one endpoint"), or the one stage ("Credential access
 * incident on multiple endpoints"); "reported by multiple sources" when EDR and identity both saw it.
 */
export function incidentName(f: IncidentFacets): string {
  const stages = alertCategories.filter(
    (c) => f.categories.includes(c) && c !== 'SuspiciousActivity' && c !== 'Malware',
  );
  const [firstStage] = stages;
  const lastStage = stages[stages.length - 1];
  let name =
    f.titles.length === 1
      ? (f.titles[0] as string)
      : firstStage && lastStage && firstStage !== lastStage
        ? `Multi-stage incident involving ${stageWords(firstStage)} & ${stageWords(lastStage)}`
        : firstStage
          ? `${stageWords(firstStage)} incident`
          : 'Multi-stage incident';
  if (f.machines.length > 0) name += f.machines.length === 1 ? ' on one endpoint' : ' on multiple endpoints';
  else if (f.users.length > 0) {
    const verb = name.includes(' involving ') ? 'with' : 'involving';
    name += f.users.length === 1 ? ` ${verb} one user` : ` ${verb} multiple users`;
  }
  if (f.detectionSources.length > 1) name += ' reported by multiple sources';
  return name;
}

/** `CredentialAccess` → `Credential access`, `CommandAndControl` → `Command and control`. */
function stageWords(c: AlertCategory): string {
  const words = c.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
