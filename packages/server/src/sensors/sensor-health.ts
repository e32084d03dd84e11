// Sensor health issues after MDI's list (reference §2.5): what a heartbeat reports (clock, capture,
// drops, buffer, errors) opens or closes issues at once, and a periodic evaluation opens
// "Sensor stopped communicating" for sensors silent past the threshold. Issues keep their open
// and closed times; the state store has no table for them yet, so they are kept as one
// detector snapshot (`sensors/health-issues`), loaded lazily and saved on every change.
import { randomUUID } from 'node:crypto';
import type { JsonObject, Severity, StateStore } from '@palisade/store';
import type { BodyIssue } from '../api/problem.ts';

export interface SensorHealthThresholds {
  /** MDI: "Sensor stopped communicating (default window 5 minutes)" (reference §2.5). */
  readonly silenceMs: number;
  /** Kerberos' default maximum skew; MDI asks sensor and DC clocks to be within 5 minutes (§2.3). */
  readonly clockSkewMs: number;
  /** Buffered batches over capacity at or beyond this open "buffer nearly full". */
  readonly bufferNearFullRatio: number;
}

export const defaultSensorHealthThresholds: SensorHealthThresholds = {
  silenceMs: 5 * 60_000,
  clockSkewMs: 5 * 60_000,
  bufferNearFullRatio: 0.9,
};

/** The issue types a sensor can have, with MDI's title where MDI has the issue. */
export const sensorHealthIssueTypes = {
  'sensor-stopped-communicating': { title: 'Sensor stopped communicating', severity: 'Medium' },
  'clock-skew': { title: "The sensor's clock is more than 5 minutes off the server's", severity: 'Medium' },
  'capture-failing': { title: 'Some network traffic could not be analyzed', severity: 'Medium' },
  'events-dropped': { title: 'Some Windows events are not being analyzed', severity: 'Medium' },
  'buffer-near-full': { title: "The sensor's delivery buffer is nearly full", severity: 'Medium' },
  'sensor-errors': { title: 'The sensor reported errors', severity: 'Low' },
} as const satisfies Record<
  string,
  { title: string; severity: Exclude<Severity, 'UnSpecified' | 'Informational'> }
>;

export type SensorHealthIssueType = keyof typeof sensorHealthIssueTypes;

export interface SensorHealthIssue {
  readonly id: string;
  readonly sensorId: string;
  readonly type: SensorHealthIssueType;
  readonly title: string;
  readonly severity: 'Low' | 'Medium' | 'High';
  readonly status: 'Open' | 'Closed';
  readonly openedAt: string;
  readonly closedAt: string | null;
  /** The last time the condition was seen (open issues) or changed. */
  readonly updatedAt: string;
  readonly details: JsonObject;
}

/** What a heartbeat carries; every part is optional and only the parts sent are judged. */
export interface HeartbeatReport {
  /** The sensor's clock when it sent the heartbeat (ISO 8601). */
  readonly sensorTime?: string;
  readonly version?: string;
  readonly status?: (typeof sensorReportedStatuses)[number];
  /** Seconds between an event's time and its sending, at the sensor. */
  readonly lagSeconds?: number;
  readonly bufferedBatches?: number;
  readonly bufferCapacityBatches?: number;
  /** Records dropped since the previous heartbeat. */
  readonly dropped?: { readonly events?: number; readonly packets?: number };
  readonly capture?: {
    readonly packetsReceived?: number;
    readonly packetsDropped?: number;
    readonly failing?: boolean;
    readonly error?: string;
  };
  /** Errors since the previous heartbeat (an empty list says there are none now). */
  readonly errors?: readonly { readonly source?: string; readonly message: string }[];
}

export const sensorReportedStatuses = ['Starting', 'Running', 'Degraded', 'Stopping'] as const;

/** Checks a heartbeat body; unknown members are kept in the stored report but not judged. */
export function checkHeartbeat(body: unknown): { value: HeartbeatReport; issues: BodyIssue[] } {
  const issues: BodyIssue[] = [];
  const value: Record<string, unknown> = {};
  if (body === undefined || body === null) return { value, issues };
  if (!isObject(body)) {
    return {
      value,
      issues: [{ path: [], expected: 'a JSON object', found: describe(body), code: 'body/type-mismatch' }],
    };
  }
  const check = (path: (string | number)[], v: unknown, expected: string, ok: boolean) => {
    if (!ok) issues.push({ path, expected, found: describe(v), code: 'body/type-mismatch' });
    return ok;
  };
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const { sensorTime, version, status, lagSeconds, bufferedBatches, bufferCapacityBatches } = body;
  if (
    sensorTime !== undefined &&
    check(
      ['sensorTime'],
      sensorTime,
      'an ISO 8601 time',
      typeof sensorTime === 'string' && !Number.isNaN(Date.parse(sensorTime)),
    )
  )
    value.sensorTime = sensorTime;
  if (version !== undefined && check(['version'], version, 'a version string', typeof version === 'string'))
    value.version = version;
  if (
    status !== undefined &&
    check(
      ['status'],
      status,
      `one of ${sensorReportedStatuses.join(', ')}`,
      (sensorReportedStatuses as readonly unknown[]).includes(status),
    )
  )
    value.status = status;
  if (
    lagSeconds !== undefined &&
    check(
      ['lagSeconds'],
      lagSeconds,
      'a number of seconds',
      typeof lagSeconds === 'number' && lagSeconds >= 0,
    )
  )
    value.lagSeconds = lagSeconds;
  if (
    bufferedBatches !== undefined &&
    check(['bufferedBatches'], bufferedBatches, 'a count', count(bufferedBatches))
  )
    value.bufferedBatches = bufferedBatches;
  if (
    bufferCapacityBatches !== undefined &&
    check(
      ['bufferCapacityBatches'],
      bufferCapacityBatches,
      'a positive count',
      count(bufferCapacityBatches) && (bufferCapacityBatches as number) > 0,
    )
  )
    value.bufferCapacityBatches = bufferCapacityBatches;
  for (const [name, fields] of [
    ['dropped', ['events', 'packets']],
    ['capture', ['packetsReceived', 'packetsDropped']],
  ] as const) {
    const part = body[name];
    if (part === undefined) continue;
    if (!check([name], part, 'an object', isObject(part))) continue;
    const object = part as Record<string, unknown>;
    for (const f of fields) {
      if (object[f] !== undefined) check([name, f], object[f], 'a count', count(object[f]));
    }
    if (name === 'capture') {
      if (object.failing !== undefined)
        check([name, 'failing'], object.failing, 'true or false', typeof object.failing === 'boolean');
      if (object.error !== undefined)
        check([name, 'error'], object.error, 'a message', typeof object.error === 'string');
    }
    value[name] = part;
  }
  const errors = body.errors;
  if (errors !== undefined) {
    const ok =
      Array.isArray(errors) &&
      errors.length <= 100 &&
      errors.every(
        (e) =>
          isObject(e) &&
          typeof e.message === 'string' &&
          (e.source === undefined || typeof e.source === 'string'),
      );
    if (check(['errors'], errors, 'an array of at most 100 { source?, message }', ok)) value.errors = errors;
  }
  return { value, issues };
}

/** A condition a heartbeat or the evaluator found: open (with details) or cleared. */
type Finding = { readonly active: true; readonly details: JsonObject } | { readonly active: false };

/** What a heartbeat says about each issue type it speaks of (the others are left as they are). */
export function findingsOf(
  report: HeartbeatReport,
  serverNow: Date,
  thresholds: SensorHealthThresholds = defaultSensorHealthThresholds,
): Partial<Record<SensorHealthIssueType, Finding>> {
  const found: Partial<Record<SensorHealthIssueType, Finding>> = {
    'sensor-stopped-communicating': { active: false },
  };
  if (report.sensorTime !== undefined) {
    const skewMs = Date.parse(report.sensorTime) - serverNow.getTime();
    found['clock-skew'] =
      Math.abs(skewMs) > thresholds.clockSkewMs
        ? { active: true, details: { skewSeconds: Math.round(skewMs / 1000), sensorTime: report.sensorTime } }
        : { active: false };
  }
  if (report.capture !== undefined) {
    const { failing, error, packetsDropped = 0, packetsReceived = 0 } = report.capture;
    found['capture-failing'] =
      failing === true || error !== undefined || packetsDropped > 0
        ? {
            active: true,
            details: { ...(error === undefined ? {} : { error }), packetsDropped, packetsReceived },
          }
        : { active: false };
  }
  if (report.dropped !== undefined) {
    const events = report.dropped.events ?? 0;
    found['events-dropped'] =
      events > 0 ? { active: true, details: { droppedEvents: events } } : { active: false };
  }
  if (report.bufferedBatches !== undefined && report.bufferCapacityBatches !== undefined) {
    const ratio = report.bufferedBatches / report.bufferCapacityBatches;
    found['buffer-near-full'] =
      ratio >= thresholds.bufferNearFullRatio
        ? {
            active: true,
            details: {
              bufferedBatches: report.bufferedBatches,
              bufferCapacityBatches: report.bufferCapacityBatches,
            },
          }
        : { active: false };
  }
  if (report.errors !== undefined) {
    found['sensor-errors'] =
      report.errors.length > 0
        ? {
            active: true,
            details: {
              errors: report.errors
                .slice(0, 10)
                .map((e) => ({ source: e.source ?? '', message: e.message.slice(0, 500) })),
            },
          }
        : { active: false };
  }
  return found;
}

/** MDI's health status: Healthy, or NotHealthy with the highest open issue's severity. */
export function healthStatusOf(
  open: readonly SensorHealthIssue[],
): 'Healthy' | 'NotHealthyLow' | 'NotHealthyMedium' | 'NotHealthyHigh' {
  if (open.length === 0) return 'Healthy';
  const rank = { Low: 1, Medium: 2, High: 3 } as const;
  const highest = open.reduce(
    (top, i) => (rank[i.severity] > rank[top] ? i.severity : top),
    'Low' as SensorHealthIssue['severity'],
  );
  return `NotHealthy${highest}`;
}

/** The snapshot id under which the issues are kept. */
export const healthSnapshotId = 'sensors/health-issues';
/** Closed issues kept for the Health issues page; the oldest go first. */
export const closedIssuesKept = 1_000;

export interface SensorHealthMonitorOptions {
  readonly now: () => Date;
  readonly thresholds?: SensorHealthThresholds | undefined;
}

/** The instance's health issues: raised from heartbeats and by `evaluate`, kept in the state store. */
export class SensorHealthMonitor {
  readonly #state: StateStore;
  readonly #now: () => Date;
  readonly thresholds: SensorHealthThresholds;
  #issues: SensorHealthIssue[] | undefined;
  #loading: Promise<SensorHealthIssue[]> | undefined;

  constructor(state: StateStore, options: SensorHealthMonitorOptions) {
    this.#state = state;
    this.#now = options.now;
    this.thresholds = options.thresholds ?? defaultSensorHealthThresholds;
  }

  /** Judges a heartbeat the sensor just sent (its last-seen time is recorded by the caller). */
  async heartbeat(sensorId: string, report: HeartbeatReport): Promise<SensorHealthIssue[]> {
    const now = this.#now();
    await this.#apply(sensorId, findingsOf(report, now, this.thresholds), now);
    return this.open(sensorId);
  }

  /**
   * Opens "Sensor stopped communicating" for every registered sensor silent past the threshold
   * (since its last contact, or its registration when it never called), and closes the issues
   * of deleted sensors. Returns the issues opened.
   */
  async evaluate(): Promise<SensorHealthIssue[]> {
    const now = this.#now();
    const sensors = await this.#state.sensors.list({ includeRevoked: true });
    const before = new Set((await this.#load()).filter((i) => i.status === 'Open').map((i) => i.id));
    for (const sensor of sensors) {
      if (sensor.revokedAt !== null) {
        const all = Object.keys(sensorHealthIssueTypes) as SensorHealthIssueType[];
        await this.#apply(sensor.id, Object.fromEntries(all.map((t) => [t, { active: false }])), now);
        continue;
      }
      const last = Date.parse(sensor.lastSeenAt ?? sensor.registeredAt);
      const silentMs = now.getTime() - last;
      if (silentMs > this.thresholds.silenceMs) {
        await this.#apply(
          sensor.id,
          {
            'sensor-stopped-communicating': {
              active: true,
              details: { lastSeen: sensor.lastSeenAt, silentMinutes: Math.floor(silentMs / 60_000) },
            },
          },
          now,
        );
      }
    }
    return (await this.#load()).filter((i) => i.status === 'Open' && !before.has(i.id));
  }

  /** Open issues of one sensor. */
  async open(sensorId: string): Promise<SensorHealthIssue[]> {
    return (await this.#load()).filter((i) => i.sensorId === sensorId && i.status === 'Open');
  }

  /** Every issue, newest first. */
  async list(): Promise<SensorHealthIssue[]> {
    return [...(await this.#load())].sort((a, b) => b.openedAt.localeCompare(a.openedAt));
  }

  async #apply(
    sensorId: string,
    findings: Partial<Record<SensorHealthIssueType, Finding>>,
    now: Date,
  ): Promise<void> {
    const issues = await this.#load();
    const at = now.toISOString();
    let changed = false;
    for (const [type, finding] of Object.entries(findings) as [SensorHealthIssueType, Finding][]) {
      const index = issues.findIndex(
        (i) => i.sensorId === sensorId && i.type === type && i.status === 'Open',
      );
      const current = issues[index];
      if (finding.active) {
        if (current) {
          issues[index] = { ...current, updatedAt: at, details: finding.details };
        } else {
          const { title, severity } = sensorHealthIssueTypes[type];
          issues.push({
            id: randomUUID(),
            sensorId,
            type,
            title,
            severity,
            status: 'Open',
            openedAt: at,
            closedAt: null,
            updatedAt: at,
            details: finding.details,
          });
        }
        changed = true;
      } else if (current) {
        issues[index] = { ...current, status: 'Closed', closedAt: at, updatedAt: at };
        changed = true;
      }
    }
    if (changed) await this.#save(issues);
  }

  async #load(): Promise<SensorHealthIssue[]> {
    if (this.#issues) return this.#issues;
    this.#loading ??= this.#state.detectorSnapshots.get(healthSnapshotId).then((snapshot) => {
      this.#issues ??= snapshot
        ? (JSON.parse(Buffer.from(snapshot.state).toString('utf8')) as SensorHealthIssue[])
        : [];
      return this.#issues;
    });
    return this.#loading;
  }

  async #save(issues: SensorHealthIssue[]): Promise<void> {
    const closed = issues.filter((i) => i.status === 'Closed');
    if (closed.length > closedIssuesKept) {
      const drop = new Set(
        closed
          .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
          .slice(0, closed.length - closedIssuesKept)
          .map((i) => i.id),
      );
      this.#issues = issues.filter((i) => !drop.has(i.id));
    }
    await this.#state.detectorSnapshots.save({
      detectorId: healthSnapshotId,
      state: Buffer.from(JSON.stringify(this.#issues ?? issues), 'utf8'),
      position: this.#now().toISOString(),
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
