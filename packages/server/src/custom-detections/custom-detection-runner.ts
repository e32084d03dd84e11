// Runs custom detection rules: each enabled rule whose frequency has passed since its last run
// executes its query over the lookback window (every device, as the service runs it, with the
// hunting timeout), and its result rows are raised as alerts through the pipeline, so they are
// stored, de-duplicated and correlated into incidents like every other alert.

import { formatDiagnostic } from '@palisade/kql';
import type { CustomDetectionRecord, StateStore } from '@palisade/store';
import { type HuntingEngine, type HuntingLimits, runHuntingQuery } from '../hunting/hunting-engine.ts';
import type { Logger } from '../log.ts';
import type { Pipeline } from '../pipeline.ts';
import { alertsOfRows, frequencyMs, maxAlertsPerRun, scheduledQuery } from './custom-detection-rule.ts';

/** What one run of a rule did. */
export interface RuleRun {
  readonly ruleId: string;
  readonly at: string;
  readonly status: 'succeeded' | 'failed';
  /** Result rows (within the lookback window). */
  readonly rows: number;
  /** Alerts raised this run (rows already alerted on are not raised again). */
  readonly raised: readonly string[];
  readonly message: string;
}

export interface CustomDetectionRunnerOptions {
  readonly state: StateStore;
  readonly hunting: HuntingEngine;
  readonly limits: Pick<HuntingLimits, 'timeoutMs'>;
  readonly pipeline: Pipeline;
  readonly now: () => Date;
  readonly log: Logger;
}

export class CustomDetectionRunner {
  constructor(private readonly options: CustomDetectionRunnerOptions) {}

  /** Whether a rule is due at `now`: enabled, and never run or run a frequency ago. */
  isDue(rule: CustomDetectionRecord, now: Date): boolean {
    if (!rule.enabled) return false;
    if (rule.lastRunAt === null) return true;
    return now.getTime() - Date.parse(rule.lastRunAt) >= frequencyMs[rule.frequency];
  }

  /** Runs every rule that is due, one after another (the timer's work). */
  async runDue(): Promise<RuleRun[]> {
    const now = this.options.now();
    const runs: RuleRun[] = [];
    for (const rule of await this.options.state.customDetections.list()) {
      if (this.isDue(rule, now)) runs.push(await this.run(rule));
    }
    return runs;
  }

  /** Runs one rule now, records the outcome on the rule, and raises its alerts. */
  async run(rule: CustomDetectionRecord): Promise<RuleRun> {
    const { state, hunting, limits, pipeline, log } = this.options;
    const now = this.options.now();
    const at = now.toISOString();
    let run: RuleRun;
    try {
      const outcome = await runHuntingQuery(hunting, scheduledQuery(rule.query, rule.frequency), {
        now,
        maxRows: maxAlertsPerRun + 1,
        timeoutMs: limits.timeoutMs,
      });
      if (!outcome.value) {
        const errors = outcome.diagnostics.filter((d) => d.severity === 'error');
        run = failed(rule, at, errors.map(formatDiagnostic).join('; ') || 'the query did not run');
      } else {
        const rows = outcome.value.Results;
        const raised = await pipeline.raiseAlerts(alertsOfRows(rule, rows, at));
        const capped =
          rows.length > maxAlertsPerRun ? ` (only the first ${maxAlertsPerRun} become alerts)` : '';
        run = {
          ruleId: rule.id,
          at,
          status: 'succeeded',
          rows: rows.length,
          raised: raised.map((a) => a.id),
          message: `${rows.length > maxAlertsPerRun ? `more than ${maxAlertsPerRun}` : rows.length} rows${capped}, ${raised.length} new alerts`,
        };
      }
    } catch (error) {
      run = failed(rule, at, error instanceof Error ? error.message : String(error));
    }
    await state.customDetections.recordRun(rule.id, { at, status: run.status, message: run.message });
    const fields = { ruleId: rule.id, title: rule.title, rows: run.rows, raised: run.raised.length };
    if (run.status === 'failed') log.warn('custom detection rule failed', { ...fields, reason: run.message });
    else log.info('custom detection rule ran', fields);
    return run;
  }
}

function failed(rule: CustomDetectionRecord, at: string, message: string): RuleRun {
  return { ruleId: rule.id, at, status: 'failed', rows: 0, raised: [], message };
}
