// The ingest pipeline: each accepted sensor batch is checked row by row, normalised where it
// carries raw Windows events, stored in the event store, run through the identity detectors and
// the Sigma rules, and its alerts stored (AlertInfo/AlertEvidence rows, alert records) and grouped
// into incidents. Batches are detected on one at a time in arrival order, so stateful detectors see
// each sensor's events in order; those that arrive while a commit is in flight are committed
// together (group commit: one event-store and one state-store transaction for the group), and each
// is acknowledged once all of that is durable.

import { createHash } from 'node:crypto';
import {
  type Alert,
  type AlertEvent,
  CorrelationEngine,
  type CorrelationSnapshot,
  compareAlerts,
  eventFromJson,
  evtxEventFields,
  IdentityEngine,
  type IdentityEngineConfig,
  identityDetectors,
  type RuleSet,
  sigmaAlert,
} from '@palisade/detect';
import type { EvtxEvent } from '@palisade/evtx';
import { checkRow, normaliseWindowsEvent, type TableRow, tables } from '@palisade/schema';
import type { AppendBatch, EventStore, Json, NewAlert, StateStore } from '@palisade/store';
import {
  type Correlated,
  type CorrelationState,
  emptyCorrelationState,
  IncidentCorrelator,
  type IncidentLookup,
} from './incidents/correlate.ts';
import { alertRows, toMdeAlert } from './incidents/from-detection.ts';
import type {
  AuditEntry,
  Checked,
  IncidentRecord as CorrelatedIncident,
  IncidentError,
  MdeAlert,
} from './incidents/model.ts';
import type { Logger } from './log.ts';

/** A batch as a sensor sends it (see docs/decisions/0007-instance-vertical-slice.md). */
export interface SensorBatch {
  readonly batchId: string;
  readonly sensorId: string;
  /** Rows the sensor normalised itself (Samba audit, packets, …). */
  readonly rows: readonly unknown[];
  /** Raw Windows events as JSON (`palisade evtx dump` lines or Windows' JSON rendering). */
  readonly events: readonly unknown[];
}

/** One row or event of a batch that was not stored, and why. */
export interface BatchRejection {
  readonly part: 'rows' | 'events';
  /** 0-based index in `rows` or `events`. */
  readonly index: number;
  /** The column at fault, when the problem is one value. */
  readonly column?: string;
  readonly message: string;
}

/** The acknowledgement: sent only once everything accepted is durable. */
export interface BatchAck {
  readonly batchId: string;
  /** True when the batch id was stored before: nothing was stored or detected again. */
  readonly duplicate: boolean;
  readonly accepted: { readonly rows: number; readonly events: number };
  /** At most `maxRejectionsReported` of them; `rejectedCount` has the total. */
  readonly rejected: readonly BatchRejection[];
  readonly rejectedCount: number;
  /** Alerts this batch raised (0 for a duplicate). */
  readonly alerts: number;
}

export const maxRejectionsReported = 100;

/**
 * The most one group commit takes: batches arriving while a commit is in flight wait for the next
 * one, which takes up to this many of them (at least one batch, whatever its size).
 */
export const groupLimits = { batches: 32, rows: 100_000 } as const;

/** The event store `source` of the AlertInfo/AlertEvidence batches the pipeline writes. */
export const pipelineSource = 'pipeline';

/** The detector snapshot that holds incident correlation's state; its position is the last batch's seq. */
export const correlationSnapshotId = 'incidents/correlation';

/** The detector snapshot of the Sigma correlation rules' open windows, saved with the one above. */
export const sigmaCorrelationSnapshotId = 'sigma/correlations';

/** Checked parts of a batch: rows that fit their tables and events that are Windows events. */
export interface CheckedBatch {
  readonly rows: readonly TableRow[];
  readonly events: readonly EvtxEvent[];
  readonly rejected: readonly BatchRejection[];
}

/**
 * Checks every row against its table (`checkRow`) and reads every raw event; the rest of the
 * batch goes on without the ones refused (one bad record never costs the others).
 */
export function checkBatch(batch: Pick<SensorBatch, 'rows' | 'events'>): CheckedBatch {
  const rows: TableRow[] = [];
  const events: EvtxEvent[] = [];
  const rejected: BatchRejection[] = [];
  batch.rows.forEach((candidate, index) => {
    const shape = rowShapeProblem(candidate);
    if (shape !== undefined) {
      rejected.push({ part: 'rows', index, message: shape });
      return;
    }
    const row = candidate as TableRow;
    const problems = checkRow(row);
    if (problems.length === 0) rows.push(row);
    for (const p of problems) rejected.push({ part: 'rows', index, column: p.column, message: p.message });
  });
  batch.events.forEach((value, index) => {
    const read = eventFromJson(value, index);
    if ('error' in read) rejected.push({ part: 'events', index, message: read.error });
    else events.push(read.event);
  });
  return { rows, events, rejected };
}

function rowShapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `expected a row { table, values }, found ${describe(value)}`;
  const { table, values } = value as { table?: unknown; values?: unknown };
  if (typeof table !== 'string' || !Object.hasOwn(tables, table))
    return `expected a table name, found ${describe(table)}`;
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    return `expected values as an object, found ${describe(values)}`;
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The event an alert cites for a row a sensor normalised, as the offline scan cites it, so the
 * same files give the same alert ids offline and live: Windows rows by their ReportId
 * (`computer:channel:recordId`) and AdditionalFields.EventId, Samba rows as 'Samba audit',
 * packet rows by frame number.
 */
export function rowEvent(row: TableRow, source: string): AlertEvent {
  const v = row.values;
  const text = (x: unknown) => (typeof x === 'string' ? x : '');
  const extra = v.AdditionalFields;
  const fields = typeof extra === 'object' && extra !== null && !Array.isArray(extra) ? extra : {};
  const eventId = typeof fields.EventId === 'number' ? fields.EventId : 0;
  const timestamp = text(v.Timestamp);
  const reportId = text(v.ReportId);
  if (reportId.startsWith('net:')) {
    const frame = typeof fields.Frame === 'number' ? fields.Frame : undefined;
    return {
      file: source,
      timestamp,
      channel: 'network',
      eventId: 0,
      computer: text(v.DestinationIPAddress),
      ...(frame !== undefined ? { recordId: frame } : {}),
    };
  }
  if (reportId.startsWith('samba:')) {
    return {
      file: source,
      timestamp,
      channel: 'Samba audit',
      eventId,
      computer: text(v.DestinationDeviceName ?? v.DeviceName),
    };
  }
  const first = reportId.indexOf(':');
  const last = reportId.lastIndexOf(':');
  if (first > 0 && last > first) {
    const recordId = Number(reportId.slice(last + 1));
    return {
      file: source,
      timestamp,
      channel: reportId.slice(first + 1, last),
      eventId,
      computer: reportId.slice(0, first),
      ...(reportId.slice(last + 1) !== '' && Number.isSafeInteger(recordId) ? { recordId } : {}),
    };
  }
  return { file: source, timestamp, channel: row.table, eventId, computer: text(v.DeviceName) };
}

/** The cited event of a raw Windows event, as the offline scan makes it. */
function windowsEvent(event: EvtxEvent, source: string): AlertEvent {
  return {
    file: source,
    recordId: event.system.eventRecordId ?? event.recordId,
    timestamp: event.timestamp,
    channel: event.system.channel,
    eventId: event.system.eventId,
    computer: event.system.computer,
  };
}

export interface PipelineOptions {
  readonly events: EventStore;
  readonly state: StateStore;
  readonly log: Logger;
  /** Sigma rules over raw Windows events, compiled once; none when absent. */
  readonly ruleSet?: RuleSet | undefined;
  readonly identityConfig?: IdentityEngineConfig | undefined;
  /** Incident correlation window (default 24 h). */
  readonly correlationWindowMs?: number | undefined;
  /** Batches waiting beyond this are refused with `busy` (the route answers 503 + Retry-After). */
  readonly maxQueuedBatches?: number | undefined;
  readonly now?: (() => Date) | undefined;
}

export const pipelineErrorCodes = ['pipeline/busy', 'pipeline/recovering'] as const;
export type PipelineErrorCode = (typeof pipelineErrorCodes)[number];

export class PipelineError extends Error {
  override readonly name = 'PipelineError';
  constructor(
    readonly code: PipelineErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A batch waiting for its group, checked (and its raw events normalised) on arrival. */
interface Waiting {
  readonly batch: SensorBatch;
  readonly checked: CheckedBatch;
  readonly raw: readonly { readonly event: EvtxEvent; readonly rows: readonly TableRow[] }[];
  readonly resolve: (ack: BatchAck) => void;
  readonly reject: (error: unknown) => void;
}

/** A batch detected on and ready to commit with its group. */
interface Detected {
  readonly batchId: string;
  readonly sensorId: string;
  readonly raised: readonly Alert[];
  /** Rows to store with it; absent when recovery finishes a batch stored already (`stored`). */
  readonly rows?: readonly TableRow[];
  readonly stored?: { readonly seq: number; readonly rows: number };
}

interface Detectors {
  identity: IdentityEngine;
  sigmaCorrelations: CorrelationEngine;
  /** Whether the stored Sigma snapshot holds open windows (then an empty one must replace it). */
  sigmaSaved: boolean;
  correlator: IncidentCorrelator;
  /** The event store seq of the last batch whose alerts are stored. */
  position: number;
}

/**
 * The instance's one pipeline. `open` rebuilds detector state: incident correlation from its
 * snapshot, the identity detectors by replaying stored batches (IdentityEngine has no state to
 * save), and it finishes any batch stored but not yet detected on (a crash in between).
 */
export class Pipeline {
  readonly #options: PipelineOptions;
  readonly #log: Logger;
  #detectors: Detectors | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;
  /** Batches that arrived since the last group was taken, in arrival order. */
  #waiting: Waiting[] = [];
  #groupScheduled = false;

  private constructor(options: PipelineOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  static async open(options: PipelineOptions): Promise<Pipeline> {
    const pipeline = new Pipeline(options);
    await pipeline.#recover();
    return pipeline;
  }

  /** Batches waiting or running. */
  get queued(): number {
    return this.#queued;
  }

  /** Stores and detects on one batch; resolves with the acknowledgement once it is durable. */
  ingest(batch: SensorBatch): Promise<BatchAck> {
    const max = this.#options.maxQueuedBatches ?? 64;
    if (this.#queued >= max) {
      return Promise.reject(
        new PipelineError('pipeline/busy', `${this.#queued} batches are waiting; send this one again later`),
      );
    }
    // Checking is pure: done on arrival, it runs while an earlier group commits.
    const checked = checkBatch(batch);
    // Raw events become their Identity rows and a PalisadeRawEvents row each, stored with the rest.
    const raw = checked.events.map((event) => ({
      event,
      rows: normaliseWindowsEvent(event, batch.sensorId),
    }));
    this.#queued++;
    const acked = new Promise<BatchAck>((resolve, reject) => {
      this.#waiting.push({ batch, checked, raw, resolve, reject });
    });
    this.#scheduleGroup();
    return acked.finally(() => this.#queued--);
  }

  /**
   * Applies a PATCH to an incident through correlation (which may hold the incident) and stores
   * it with its audit entries. `lookup` is the stored incident, for those correlation forgot.
   */
  updateIncident(
    incidentId: number,
    body: unknown,
    actor: string,
    stored: CorrelatedIncident | undefined,
  ): Promise<{ errors: readonly IncidentError[] }> {
    return this.#serial(async () => {
      const detectors = await this.#ready();
      const at = this.#now().toISOString();
      const saved = structuredClone(detectors.correlator.state);
      const result = detectors.correlator.update(incidentId, body, actor, at, (id) =>
        id === incidentId ? stored : undefined,
      );
      if (!result.value) return { errors: result.errors };
      const changes = result.value;
      try {
        await this.#options.state.transaction(async (tx) => {
          for (const incident of changes.incidents) {
            // A Redirected incident takes no updates (updateIncident refuses them).
            if (incident.status === 'Redirected') continue;
            await tx.incidents.update(incident.incidentId, {
              status: incident.status,
              assignedTo: incident.assignedTo,
              classification: incident.classification,
              determination: incident.determination,
              tags: incident.tags,
            });
          }
          for (const entry of changes.audit) {
            if (entry.action === 'comment' && entry.after && typeof entry.after.comment === 'string') {
              await tx.comments.add({
                target: { kind: 'incident', id: incidentId },
                author: actor,
                text: entry.after.comment,
              });
            }
          }
          await appendAudit(tx, changes.audit);
          await saveCorrelation(tx, detectors);
        });
      } catch (error) {
        detectors.correlator = new IncidentCorrelator(saved, correlatorOptions(this.#options));
        throw error;
      }
      return { errors: [] };
    });
  }

  /**
   * Merges incidents by hand through correlation (which may hold them; §6.2: 2–5 open incidents of
   * one verdict, into the lowest id) and stores the merge with its audit entries. `stored` gives
   * the store's copy of incidents correlation forgot. Resolves with the id merged into.
   */
  mergeIncidents(
    incidentIds: readonly number[],
    actor: string,
    stored: IncidentLookup,
  ): Promise<Checked<number>> {
    return this.#serial(async () => {
      const detectors = await this.#ready();
      const saved = structuredClone(detectors.correlator.state);
      const result = detectors.correlator.merge(incidentIds, actor, this.#now().toISOString(), stored);
      if (!result.value) return { errors: result.errors };
      const changes = result.value;
      const [target] = changes.incidents;
      if (target === undefined) return { errors: [] };
      try {
        await this.#options.state.transaction(async (tx) => {
          await storeIncidentChanges(tx, { ...changes, incidentId: target.incidentId });
          // §6.2: the sources' tags move to the target, and the sources are tagged Redirected.
          for (const incident of changes.incidents)
            await tx.incidents.update(incident.incidentId, { tags: incident.tags });
          await appendAudit(tx, changes.audit);
          await saveCorrelation(tx, detectors);
        });
      } catch (error) {
        detectors.correlator = new IncidentCorrelator(saved, correlatorOptions(this.#options));
        throw error;
      }
      return { value: target.incidentId, errors: [] };
    });
  }

  /**
   * Raises alerts made outside the sensor path (custom detection rules) as detection alerts are
   * raised: those already stored are skipped (ids are stable, so a rule's next run over the same
   * rows raises nothing new), the rest are written as AlertInfo/AlertEvidence rows and alert
   * records and correlated into incidents, one at a time with the batch groups. Resolves with
   * the alerts stored.
   */
  raiseAlerts(alerts: readonly MdeAlert[]): Promise<MdeAlert[]> {
    return this.#serial(async () => {
      const detectors = await this.#ready();
      const { events, state } = this.#options;
      const fresh: MdeAlert[] = [];
      const seen = new Set<string>();
      for (const alert of alerts) {
        if (seen.has(alert.id)) continue;
        seen.add(alert.id);
        if ((await state.alerts.get(alert.id)) === undefined) fresh.push(alert);
      }
      if (fresh.length === 0) return [];
      // Named after the alerts it carries: raised again after a crash, the rows are not stored twice.
      const digest = createHash('sha256')
        .update(fresh.map((a) => a.id).join('\n'))
        .digest('hex')
        .slice(0, 32);
      await events.append(`alerts:raised:${digest}`, fresh.flatMap(alertRows), { source: pipelineSource });
      const at = this.#now().toISOString();
      const saved = structuredClone(detectors.correlator.state);
      try {
        const correlated = fresh.map((alert) => ({ alert, change: detectors.correlator.add(alert, at) }));
        await state.transaction(async (tx) => {
          for (const { alert, change } of correlated) {
            await storeIncidentChanges(tx, change);
            await tx.alerts.create(storedAlert(alert, change.incidentId));
            await appendAudit(tx, change.audit);
          }
          await saveCorrelation(tx, detectors);
        });
        this.#log.info('alerts raised', {
          alerts: correlated.map(({ alert, change }) => ({
            id: alert.id,
            title: alert.title,
            incidentId: change.incidentId,
          })),
        });
      } catch (error) {
        detectors.correlator = new IncidentCorrelator(saved, correlatorOptions(this.#options));
        throw error;
      }
      return fresh;
    });
  }

  /** Waits for queued work; the pipeline takes no more after this. */
  async close(): Promise<void> {
    await this.#tail.catch(() => undefined);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Queues one group task unless one is queued already: it takes the batches waiting when it
   * starts, so those that arrive while a group commits go together in the next.
   */
  #scheduleGroup(): void {
    if (this.#groupScheduled) return;
    this.#groupScheduled = true;
    void this.#serial(async () => {
      this.#groupScheduled = false;
      let rows = 0;
      let taken = 0;
      for (const w of this.#waiting) {
        const size = w.batch.rows.length + w.batch.events.length;
        if (taken > 0 && (taken === groupLimits.batches || rows + size > groupLimits.rows)) break;
        rows += size;
        taken++;
      }
      const group = this.#waiting.splice(0, taken);
      if (this.#waiting.length > 0) this.#scheduleGroup();
      await this.#ingestGroup(group);
    });
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** The detectors, rebuilt first when a failed batch left them unsure. */
  async #ready(): Promise<Detectors> {
    if (this.#detectors === undefined) await this.#recover();
    return this.#detectors as Detectors;
  }

  /**
   * Detects on a group's batches in arrival order, then commits them together; settles each
   * batch's acknowledgement. A batch id stored before is acknowledged as a duplicate at once; one
   * seen earlier in the group, once the group is durable.
   */
  async #ingestGroup(group: readonly Waiting[]): Promise<void> {
    const ack = (w: Waiting, duplicate: boolean, alerts: number): BatchAck => ({
      batchId: w.batch.batchId,
      duplicate,
      accepted: { rows: w.checked.rows.length, events: w.checked.events.length },
      rejected: w.checked.rejected.slice(0, maxRejectionsReported),
      rejectedCount: w.checked.rejected.length,
      alerts,
    });
    let detectors: Detectors;
    let known: boolean[];
    try {
      detectors = await this.#ready();
      // Earlier groups are committed, so the store knows every id they stored.
      known = await Promise.all(
        group.map(async (w) => (await this.#options.events.findBatch(w.batch.batchId)) !== undefined),
      );
    } catch (error) {
      for (const w of group) w.reject(error);
      return;
    }
    const fresh: Waiting[] = [];
    const detected: Detected[] = [];
    const later: Waiting[] = [];
    const ids = new Set<string>();
    try {
      for (const [k, w] of group.entries()) {
        if (known[k]) {
          w.resolve(ack(w, true, 0));
          continue;
        }
        if (ids.has(w.batch.batchId)) {
          later.push(w);
          continue;
        }
        ids.add(w.batch.batchId);
        fresh.push(w);
        const { batchId, sensorId } = w.batch;
        detected.push({
          batchId,
          sensorId,
          raised: this.#detect(detectors, w.checked.rows, w.raw, sensorId),
          rows: [...w.checked.rows, ...w.raw.flatMap((r) => r.rows)],
        });
      }
      if (detected.length === 0) return;
      const alerts = await this.#commit(detectors, detected);
      fresh.forEach((w, k) => {
        w.resolve(ack(w, false, alerts[k] ?? 0));
      });
      for (const w of later) w.resolve(ack(w, true, 0));
    } catch (error) {
      // Detection ran ahead of the stores: rebuild the detectors from the stores before the next
      // group, which finishes any batch of this one that was stored (its seq is past the position).
      this.#detectors = undefined;
      this.#log.error('a batch group failed; the pipeline will recover', {
        batchIds: detected.map((d) => d.batchId),
        err: error,
      });
      for (const w of [...fresh, ...later]) w.reject(error);
    }
  }

  /**
   * Alerts from the batch's Identity rows (the sensor's, and those of its raw events) and from
   * Sigma rules over its raw events.
   */
  #detect(
    detectors: Detectors,
    rows: readonly TableRow[],
    raw: readonly { readonly event: EvtxEvent; readonly rows: readonly TableRow[] }[],
    source: string,
  ): Alert[] {
    const identity: { time: number; row: TableRow; event: AlertEvent }[] = [];
    const keep = (row: TableRow, event: AlertEvent) => {
      if (!row.table.startsWith('Identity')) return;
      const time = Date.parse(
        typeof row.values.Timestamp === 'string' ? row.values.Timestamp : event.timestamp,
      );
      if (!Number.isNaN(time)) identity.push({ time, row, event });
    };
    for (const row of rows) keep(row, rowEvent(row, source));
    const alerts: Alert[] = [];
    const ruleSet = this.#options.ruleSet;
    const sigma = detectors.sigmaCorrelations;
    for (const { event, rows: eventRows } of raw) {
      const ref = windowsEvent(event, source);
      for (const row of eventRows) keep(row, ref);
      if (!ruleSet) continue;
      const fields = evtxEventFields(event);
      for (const index of ruleSet.match(fields)) {
        const rule = ruleSet.rules[index];
        if (!rule) continue;
        if (sigma.uses(rule)) alerts.push(...sigma.push(rule, fields, ref));
        if (sigma.suppressed(rule)) continue;
        alerts.push(sigmaAlert(rule, event.timestamp, ref));
      }
    }
    // Stable: rows of one time keep the sensor's order, as the offline scan keeps file order.
    identity.sort((a, b) => a.time - b.time);
    for (const { row, event } of identity) alerts.push(...detectors.identity.push(row, event));
    return alerts.sort(compareAlerts);
  }

  /**
   * Stores a group of detected batches: in one event-store transaction their rows (unless stored
   * already) and AlertInfo/AlertEvidence rows (batch `alerts:<id>`, idempotent), then in one state
   * transaction the alert records, their incidents, the audit entries, the batches in the ledger
   * and correlation's snapshot at the last batch's position. Returns the alerts stored per batch.
   */
  async #commit(detectors: Detectors, group: readonly Detected[]): Promise<number[]> {
    const { events, state } = this.#options;
    const at = this.#now().toISOString();
    const seen = new Set<string>();
    const fresh: MdeAlert[][] = [];
    for (const batch of group) {
      const records: MdeAlert[] = [];
      for (const alert of batch.raised) {
        const record = toMdeAlert(alert, { createdAt: at });
        if (seen.has(record.id)) continue;
        seen.add(record.id);
        // Recovery replays a batch whose alerts may be stored already (ids are stable).
        if ((await state.alerts.get(record.id)) === undefined) records.push(record);
      }
      fresh.push(records);
    }
    const appends: AppendBatch[] = [];
    group.forEach((batch, k) => {
      if (batch.rows) appends.push({ batchId: batch.batchId, rows: batch.rows, source: batch.sensorId });
      const records = fresh[k] ?? [];
      if (records.length > 0) {
        appends.push({
          batchId: `alerts:${batch.batchId}`,
          rows: records.flatMap(alertRows),
          source: pipelineSource,
        });
      }
    });
    const results = new Map((await events.appendMany(appends)).map((r) => [r.batchId, r]));
    const stored = group.map((batch) => {
      if (batch.stored) return batch.stored;
      const result = results.get(batch.batchId);
      // The group's ids were checked before detection; another writer got in between.
      if (!result?.stored) throw new Error(`batch ${batch.batchId} was stored while it was detected on`);
      return { seq: result.seq, rows: result.rows };
    });
    // On failure the caller drops these detectors and rebuilds them from the stores.
    const correlated = fresh.map((records) =>
      records.map((alert) => ({ alert, change: detectors.correlator.add(alert, at) })),
    );
    detectors.position = Math.max(detectors.position, ...stored.map((s) => s.seq));
    await state.transaction(async (tx) => {
      for (const [k, batch] of group.entries()) {
        for (const { alert, change } of correlated[k] ?? []) {
          await storeIncidentChanges(tx, change);
          await tx.alerts.create(storedAlert(alert, change.incidentId));
          await appendAudit(tx, change.audit);
        }
        const rows = stored[k]?.rows ?? 0;
        await tx.batches.record({ batchId: batch.batchId, sensorId: batch.sensorId, rows });
        await tx.batches.markProcessed(batch.batchId);
      }
      await saveCorrelation(tx, detectors);
    });
    for (const [k, batch] of group.entries()) {
      const records = fresh[k] ?? [];
      if (records.length === 0) continue;
      const batchCorrelated = correlated[k] ?? [];
      this.#log.info('alerts raised', {
        batchId: batch.batchId,
        alerts: records.map((a) => ({
          id: a.id,
          title: a.title,
          incidentId: correlatedIncident(batchCorrelated, a.id),
        })),
      });
    }
    return fresh.map((records) => records.length);
  }

  /**
   * Rebuilds the detectors: correlation from its snapshot, identity detectors by replaying the
   * identity rows of every sensor batch up to the snapshot's position (their alerts are stored
   * already), then full detection on batches after it.
   */
  async #recover(): Promise<void> {
    const { events, state } = this.#options;
    const snapshot = await state.detectorSnapshots.get(correlationSnapshotId);
    const correlation = snapshot
      ? (JSON.parse(Buffer.from(snapshot.state).toString('utf8')) as CorrelationState)
      : emptyCorrelationState(await nextIncidentId(state));
    const detectors: Detectors = {
      identity: new IdentityEngine(identityDetectors, this.#options.identityConfig ?? {}),
      sigmaCorrelations: new CorrelationEngine(this.#options.ruleSet?.correlations ?? []),
      sigmaSaved: false,
      correlator: new IncidentCorrelator(correlation, correlatorOptions(this.#options)),
      position: snapshot ? Number(snapshot.position) : 0,
    };
    // The Sigma correlations' open windows, saved with incident correlation at the same position.
    const sigma = await state.detectorSnapshots.get(sigmaCorrelationSnapshotId);
    if (sigma && snapshot && sigma.position === snapshot.position) {
      detectors.sigmaCorrelations.restore(
        JSON.parse(Buffer.from(sigma.state).toString('utf8')) as CorrelationSnapshot,
      );
      detectors.sigmaSaved = detectors.sigmaCorrelations.hasState;
    }
    const started = Date.now();
    let replayed = 0;
    let finished = 0;
    let after = 0;
    for (;;) {
      const batches = await events.listBatches(after, 100);
      if (batches.length === 0) break;
      for (const stored of batches) {
        after = stored.seq;
        if (stored.source === pipelineSource) continue;
        const rows = await events.readBatch(stored.seq);
        const source = stored.source ?? 'unknown';
        if (stored.seq <= detectors.position) {
          this.#replayIdentity(detectors, rows, source);
          replayed++;
        } else {
          // Stored but not detected on: raw events come back as PalisadeRawEvents rows, which
          // Sigma cannot read, so only the identity detectors finish such a batch.
          const raised = this.#detect(detectors, rows, [], source);
          await this.#commit(detectors, [
            {
              batchId: stored.batchId,
              sensorId: source,
              raised,
              stored: { seq: stored.seq, rows: stored.rows },
            },
          ]);
          finished++;
        }
      }
    }
    this.#detectors = detectors;
    this.#log.info('pipeline ready', {
      replayedBatches: replayed,
      finishedBatches: finished,
      position: detectors.position,
      ms: Date.now() - started,
    });
  }

  #replayIdentity(detectors: Detectors, rows: readonly TableRow[], source: string): void {
    const identity = rows
      .filter((row) => row.table.startsWith('Identity'))
      .map((row) => ({ row, time: Date.parse(String(row.values.Timestamp)) }))
      .filter((r) => !Number.isNaN(r.time))
      .sort((a, b) => a.time - b.time);
    for (const { row } of identity) detectors.identity.push(row, rowEvent(row, source));
  }
}

function correlatorOptions(options: PipelineOptions): { windowMs?: number } {
  return options.correlationWindowMs === undefined ? {} : { windowMs: options.correlationWindowMs };
}

function correlatedIncident(
  correlated: readonly { alert: MdeAlert; change: Correlated }[],
  alertId: string,
): number | undefined {
  return correlated.find((c) => c.alert.id === alertId)?.change.incidentId;
}

/** The id the state store gives its next incident (ids are never reused). */
async function nextIncidentId(state: StateStore): Promise<number> {
  const { items } = await state.incidents.list({ top: 1, orderBy: 'createdAt', ascending: false });
  return Math.max(0, ...items.map((i) => i.id)) + 1;
}

async function saveCorrelation(tx: StateStore, detectors: Detectors): Promise<void> {
  await tx.detectorSnapshots.save({
    detectorId: correlationSnapshotId,
    state: Buffer.from(JSON.stringify(detectors.correlator.state), 'utf8'),
    position: String(detectors.position),
  });
  // The Sigma correlations' windows, at the same position: both are taken back together.
  if (detectors.sigmaCorrelations.hasState || detectors.sigmaSaved) {
    await tx.detectorSnapshots.save({
      detectorId: sigmaCorrelationSnapshotId,
      state: Buffer.from(JSON.stringify(detectors.sigmaCorrelations.snapshot()), 'utf8'),
      position: String(detectors.position),
    });
    detectors.sigmaSaved = detectors.sigmaCorrelations.hasState;
  }
}

/** Writes what correlation changed: merges, then new and renamed or re-rated incidents. */
async function storeIncidentChanges(tx: StateStore, change: Correlated): Promise<void> {
  const merges = new Map<number, number[]>();
  for (const incident of change.incidents) {
    if (incident.status !== 'Redirected' || incident.redirectIncidentId === null) continue;
    merges.set(incident.redirectIncidentId, [
      ...(merges.get(incident.redirectIncidentId) ?? []),
      incident.incidentId,
    ]);
  }
  for (const [target, sources] of merges) await tx.incidents.merge(sources, target);
  for (const incident of change.incidents) {
    if (incident.status === 'Redirected') continue;
    const stored = await tx.incidents.get(incident.incidentId);
    if (stored) {
      await tx.incidents.update(incident.incidentId, {
        name: incident.incidentName,
        severity: incident.severity,
      });
      continue;
    }
    const created = await tx.incidents.create({ name: incident.incidentName, severity: incident.severity });
    // Correlation numbers incidents itself; the store's ids must follow it or links would cross.
    if (created.id !== incident.incidentId) {
      throw new Error(
        `incident ids diverged: correlation made incident ${incident.incidentId}, the state store ${created.id}`,
      );
    }
  }
}

/** An alert record as the state store keeps it; `entities` holds the MDE fields it has no column for. */
export function storedAlert(alert: MdeAlert, incidentId: number): NewAlert {
  const devices = alert.evidence.flatMap((e) =>
    e.entityType === 'Machine' && e.deviceDnsName ? [e.deviceDnsName.toLowerCase()] : [],
  );
  return {
    id: alert.id,
    incidentId,
    title: alert.title,
    description: alert.description,
    severity: alert.severity,
    category: alert.category,
    detectionSource: alert.detectionSource,
    serviceSource: alert.serviceSource,
    detectorId: alert.detectorId,
    ...(alert.externalId === undefined ? {} : { externalId: alert.externalId }),
    mitreTechniques: alert.mitreTechniques,
    firstActivity: isoMillis(alert.firstEventTime),
    lastActivity: isoMillis(alert.lastEventTime),
    devices: [...new Set(devices)],
    entities: { computerDnsName: alert.computerDnsName, relatedUser: alert.relatedUser },
    evidence: alert.evidence as unknown as Json,
  };
}

/** The state store's time form (and the OData one): UTC with milliseconds. */
function isoMillis(time: string): string {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString();
}

/** Audit entries of alerts and incidents, as `incident.<action>` / `alert.<action>`. */
export async function appendAudit(tx: StateStore, entries: readonly AuditEntry[]): Promise<void> {
  for (const entry of entries) {
    const kind = entry.target.startsWith('incident:') ? 'incident' : 'alert';
    await tx.audit.append({
      actor: entry.actor,
      action: `${kind}.${entry.action}`,
      target: entry.target,
      details: { before: entry.before, after: entry.after, at: entry.at },
    });
  }
}
