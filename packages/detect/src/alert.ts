// The alert a detection raises: which rule, how severe, when, and the events behind it.
import type { DetectionRule, SigmaLevel } from '@palisade/sigma';

/** Where an event came from and what identifies it. */
export interface AlertEvent {
  readonly file?: string;
  readonly recordId?: number;
  readonly timestamp: string;
  readonly channel: string;
  readonly eventId: number;
  readonly computer: string;
}

/** The entities an alert is about (identity detections). */
export interface AlertEntities {
  readonly accounts: readonly string[];
  readonly devices: readonly string[];
  readonly ips: readonly string[];
}

export interface Alert {
  readonly kind: 'sigma' | 'correlation' | 'identity';
  readonly ruleId?: string;
  readonly title: string;
  readonly level: SigmaLevel;
  readonly tags: readonly string[];
  /** The time of the (last) event behind the alert, ISO 8601. */
  readonly timestamp: string;
  /** The event for a Sigma alert; the events that made a correlation, in time order. */
  readonly events: readonly AlertEvent[];
  /** Correlations: the group-by field values the events share. */
  readonly group?: Readonly<Record<string, string>>;
  /** The rule file (Sigma and correlation alerts). */
  readonly ruleFile?: string;
  /** Identity alerts: the detector, the Defender for Identity alert id it matches, MITRE ids. */
  readonly detectorId?: string;
  readonly externalId?: number;
  readonly techniques?: readonly string[];
  readonly description?: string;
  /** Identity alerts: who and what acted, and who and what was targeted. */
  readonly entities?: AlertEntities;
  readonly targets?: Partial<AlertEntities>;
}

/** Levels from least to most severe. */
export const levelOrder: Readonly<Record<SigmaLevel, number>> = {
  informational: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
};

/** The alert a Sigma rule raises on one event, as the offline scan and the server's pipeline write it. */
export function sigmaAlert(rule: DetectionRule, timestamp: string, event: AlertEvent): Alert {
  return {
    kind: 'sigma',
    ...(rule.id ? { ruleId: rule.id } : {}),
    title: rule.title,
    level: rule.level,
    tags: rule.tags,
    timestamp,
    events: [event],
    ruleFile: rule.source.file,
  };
}
