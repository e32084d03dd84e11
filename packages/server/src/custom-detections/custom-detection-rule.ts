// Custom detection rules, as Defender has them: a saved KQL query run continuously or every 1, 3,
// 12 or 24 hours over a lookback window, whose result rows become alerts with the rule's title, severity,
// category and techniques, and whose mapped columns name the alerts' entities. Pure: the
// schedule, the query a run executes, the checks a rule must pass, and result rows as alerts.
import { createHash } from 'node:crypto';
import { compileQuery, type JsonValue } from '@palisade/kql';
import type { CustomDetectionRecord, DetectionFrequency } from '@palisade/store';
import { deviceEvidence, fileEvidence, ipEvidence, userEvidence } from '../incidents/from-detection.ts';
import type { AlertCategory, EvidenceEntity, MdeAlert } from '../incidents/model.ts';

const HOUR = 3_600_000;

/** How often each frequency runs the rule. */
export const frequencyMs: Readonly<Record<DetectionFrequency, number>> = {
  // Near real time: every minute, the scheduler's tick.
  continuous: 60_000,
  '1h': HOUR,
  '3h': 3 * HOUR,
  '12h': 12 * HOUR,
  '24h': 24 * HOUR,
};

/**
 * How far back each run looks, as Defender's custom detections do: an hourly rule checks the last
 * 4 hours, a 3-hourly one 12 hours, a 12-hourly one 48 hours, a daily one 30 days. The windows
 * overlap, so a late row is still seen; stable alert ids keep it from alerting twice. A continuous
 * rule runs every minute over the last hour of event time: a sensor that delivers its buffer within
 * the hour (after an outage) is still seen.
 */
export const lookbackMs: Readonly<Record<DetectionFrequency, number>> = {
  continuous: HOUR,
  '1h': 4 * HOUR,
  '3h': 12 * HOUR,
  '12h': 48 * HOUR,
  '24h': 30 * 24 * HOUR,
};

/** The entities a rule can map result columns to. */
export const mappedEntities = ['device', 'account', 'ip', 'file'] as const;
export type MappedEntity = (typeof mappedEntities)[number];
export type EntityMapping = Partial<Readonly<Record<MappedEntity, string>>>;

/** Alerts one run raises at most (Palisade's limit, so a broad query cannot flood the queue). */
export const maxAlertsPerRun = 100;

/** The query a run executes: the rule's, limited to rows of the lookback window. */
export function scheduledQuery(query: string, frequency: DetectionFrequency): string {
  const hours = lookbackMs[frequency] / HOUR;
  // On a line of its own, so a comment ending the rule's last line cannot swallow it.
  return `${query.trimEnd().replace(/;+$/, '')}\n| where Timestamp > ago(${hours}h)`;
}

/** One thing wrong with a rule, against the member it is about. */
export interface RuleProblem {
  readonly member: 'query' | 'entityMapping';
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * Checks that a rule's query compiles and returns what an alert needs: a `Timestamp` datetime
 * column, and a string column for each mapped entity, at least one of them.
 */
export function checkRuleQuery(
  query: string,
  frequency: DetectionFrequency,
  mapping: EntityMapping,
): RuleProblem[] {
  const compiled = compileQuery(scheduledQuery(query, frequency));
  if (!compiled.value) {
    // The appended filter is the first thing to fail when the rule's result has no Timestamp.
    const plain = compileQuery(query);
    const diagnostics = plain.value ? compiled.diagnostics : plain.diagnostics;
    return diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => ({
        member: 'query',
        message: plain.value ? `the result needs a Timestamp column: ${d.message}` : d.message,
        ...(d.span && !plain.value ? { line: d.span.line, column: d.span.column } : {}),
      }));
  }
  const problems: RuleProblem[] = [];
  const columns = new Map(compiled.value.schema.map((c) => [c.Name, c.Type]));
  if (columns.get('Timestamp') !== 'datetime')
    problems.push({ member: 'query', message: 'the result needs a Timestamp column of type datetime' });
  const mapped = Object.entries(mapping);
  if (mapped.length === 0)
    problems.push({ member: 'entityMapping', message: 'map at least one column to an entity' });
  for (const [entity, column] of mapped) {
    const type = columns.get(column);
    if (type === undefined)
      problems.push({ member: 'entityMapping', message: `${entity}: the result has no column ${column}` });
    else if (type !== 'string')
      problems.push({
        member: 'entityMapping',
        message: `${entity}: column ${column} is ${type}, not string`,
      });
  }
  return problems;
}

/** A rule's entity mapping as stored (an object of strings; anything else is ignored). */
export function entityMappingOf(rule: Pick<CustomDetectionRecord, 'entityMapping'>): EntityMapping {
  const out: Partial<Record<MappedEntity, string>> = {};
  for (const entity of mappedEntities) {
    const column = rule.entityMapping[entity];
    if (typeof column === 'string' && column !== '') out[entity] = column;
  }
  return out;
}

const text = (value: JsonValue | undefined): string =>
  typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);

/**
 * The alerts of a run's result rows: one per row, at most `maxAlertsPerRun`. An alert's id is a
 * hash of the rule, the row's mapped entities, its Timestamp and its ReportId (when the result
 * has one), so the same row found by a later run gives the same id and is not raised again.
 */
export function alertsOfRows(
  rule: CustomDetectionRecord,
  rows: readonly Readonly<Record<string, JsonValue>>[],
  at: string,
): MdeAlert[] {
  const mapping = entityMappingOf(rule);
  const alerts: MdeAlert[] = [];
  for (const row of rows.slice(0, maxAlertsPerRun)) {
    const timestamp = text(row.Timestamp);
    const value = (entity: MappedEntity) => {
      const column = mapping[entity];
      return column === undefined ? '' : text(row[column]).trim();
    };
    const identity = [
      rule.id,
      ...mappedEntities.map((e) => `${e}=${value(e)}`),
      timestamp,
      'ReportId' in row ? text(row.ReportId) : '',
    ];
    const id = `pc${createHash('sha256').update(identity.join('\u0000')).digest('hex').slice(0, 30)}`;
    const evidence = [
      deviceEvidence(value('device'), 'Impacted', undefined, at),
      userEvidence(value('account'), 'Impacted', undefined, at),
      ipEvidence(value('ip'), undefined, at),
      fileEvidence(value('file'), at),
    ].filter((e): e is EvidenceEntity => e !== undefined);
    const machine = evidence.find((e) => e.entityType === 'Machine')?.deviceDnsName ?? null;
    const user = evidence.find((e) => e.entityType === 'User' && e.accountName);
    const when = Number.isNaN(Date.parse(timestamp)) ? at : new Date(Date.parse(timestamp)).toISOString();
    alerts.push({
      id,
      incidentId: null,
      title: rule.title,
      description:
        rule.description ??
        `Custom detection rule "${rule.title}" matched a row${machine ? ` on ${machine}` : ''} at ${when}`,
      alertCreationTime: at,
      firstEventTime: when,
      lastEventTime: when,
      lastUpdateTime: at,
      resolvedTime: null,
      assignedTo: null,
      severity: rule.severity,
      status: 'New',
      classification: null,
      determination: null,
      category: rule.category as AlertCategory,
      detectionSource: 'customDetection',
      serviceSource: 'microsoft365Defender',
      detectorId: `custom/${rule.id}`,
      mitreTechniques: [...rule.mitreTechniques],
      computerDnsName: machine,
      relatedUser: user?.accountName
        ? { userName: user.accountName, domainName: user.domainName ?? '' }
        : null,
      comments: [],
      evidence,
    });
  }
  return alerts;
}
