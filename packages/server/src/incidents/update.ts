// Analysts' updates to alerts and incidents (`PATCH /api/alerts/{id}`, `PATCH /api/incidents/{id}`):
// the body is checked, applied to the record, and every change becomes one audit entry.
import type { Dynamic } from '@palisade/schema';
import {
  type AlertPatch,
  type AuditAction,
  type AuditEntry,
  type Checked,
  type Classification,
  type Comment,
  checkAlertPatch,
  checkIncidentPatch,
  type Determination,
  type IncidentPatch,
  type IncidentRecord,
  type MdeAlert,
  type Patch,
} from './model.ts';

/** A record after an update, and what changed. */
export interface Updated<T> {
  readonly record: T;
  readonly audit: readonly AuditEntry[];
}

/** Checks a `PATCH /api/alerts/{id}` body and applies it; errors name the property. */
export function updateAlert(
  alert: MdeAlert,
  body: unknown,
  actor: string,
  at: string,
): Checked<Updated<MdeAlert>> {
  const checked = checkAlertPatch(body, alert);
  return checked.value
    ? { value: applyAlertPatch(alert, checked.value, actor, at), errors: [] }
    : { errors: checked.errors };
}

/**
 * Checks a `PATCH /api/incidents/{id}` body and applies it. A merged (Redirected) incident takes
 * no updates: they belong to the incident it was merged into.
 */
export function updateIncident(
  incident: IncidentRecord,
  body: unknown,
  actor: string,
  at: string,
): Checked<Updated<IncidentRecord>> {
  if (incident.status === 'Redirected') {
    return {
      errors: [
        {
          code: 'incidents/redirected',
          property: 'status',
          message: `incident ${incident.incidentId} was merged into incident ${incident.redirectIncidentId}; update that one`,
        },
      ],
    };
  }
  const checked = checkIncidentPatch(body, incident);
  return checked.value
    ? { value: applyIncidentPatch(incident, checked.value, actor, at), errors: [] }
    : { errors: checked.errors };
}

/** Applies a checked alert update: resolving stamps `resolvedTime`, reopening clears it. */
export function applyAlertPatch(
  alert: MdeAlert,
  patch: AlertPatch,
  actor: string,
  at: string,
): Updated<MdeAlert> {
  return applyCommon(alert, patch, `alert:${alert.id}`, actor, at, (status) => ({
    resolvedTime: status === 'Resolved' ? at : null,
  }));
}

/** Applies a checked incident update; `tags` replaces the list, as the update page says. */
export function applyIncidentPatch(
  incident: IncidentRecord,
  patch: IncidentPatch,
  actor: string,
  at: string,
): Updated<IncidentRecord> {
  return applyCommon(incident, patch, `incident:${incident.incidentId}`, actor, at, () => ({}));
}

/** What alerts and incidents share: the properties their updates set. */
interface Updatable {
  readonly status: string;
  readonly assignedTo: string | null;
  readonly classification: Classification | null;
  readonly determination: Determination | null;
  readonly tags?: readonly string[];
  readonly comments: readonly Comment[];
  readonly lastUpdateTime: string;
}

function applyCommon<T extends Updatable>(
  record: T,
  patch: Patch<string>,
  target: string,
  actor: string,
  at: string,
  onStatus: (status: string) => Partial<T>,
): Updated<T> {
  const audit: AuditEntry[] = [];
  let next: T = record;
  const change = (action: AuditAction, fields: Partial<T>) => {
    const before: Record<string, Dynamic> = {};
    const after: Record<string, Dynamic> = {};
    for (const [k, v] of Object.entries(fields)) {
      const old = (next as Record<string, unknown>)[k];
      if (JSON.stringify(old) === JSON.stringify(v)) continue;
      before[k] = (old ?? null) as Dynamic;
      after[k] = (v ?? null) as Dynamic;
    }
    if (Object.keys(after).length === 0) return;
    next = { ...next, ...fields };
    audit.push({ actor, action, target, before, after, at });
  };
  if (patch.classification !== undefined || patch.determination !== undefined) {
    change('classify', {
      classification: patch.classification ?? record.classification,
      determination: patch.determination === undefined ? record.determination : patch.determination,
    } as Partial<T>);
  }
  if (patch.assignedTo !== undefined) change('assign', { assignedTo: patch.assignedTo } as Partial<T>);
  if (patch.tags !== undefined) change('setTags', { tags: patch.tags } as Partial<T>);
  if (patch.status !== undefined && patch.status !== record.status) {
    const action: AuditAction =
      patch.status === 'Resolved' ? 'resolve' : record.status === 'Resolved' ? 'reopen' : 'setStatus';
    change(action, { status: patch.status, ...onStatus(patch.status) } as Partial<T>);
  }
  if (patch.comment !== undefined) {
    const comment = { comment: patch.comment, createdBy: actor, createdTime: at };
    next = { ...next, comments: [...next.comments, comment] };
    audit.push({ actor, action: 'comment', target, before: null, after: { comment: patch.comment }, at });
  }
  return { record: audit.length > 0 ? { ...next, lastUpdateTime: at } : record, audit };
}
