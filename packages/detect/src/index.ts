// Public surface of @palisade/detect: compiled rule sets, event field access, correlations,
// alerts and the offline scan.

export type { Alert, AlertEntities, AlertEvent } from './alert.ts';
export { levelOrder, sigmaAlert } from './alert.ts';
export type { RuleSet, RuleSetStats } from './compile.ts';
export { compileRuleSet, ruleKeys } from './compile.ts';
export {
  CorrelationEngine,
  type CorrelationSnapshot,
  MAX_ENTRIES_PER_GROUP,
  MAX_GROUPS,
} from './correlation.ts';
export type { EventFields, FieldValue } from './event-fields.ts';
export { evtxEventFields } from './event-fields.ts';
export { identityDetectors } from './identity/catalogue.ts';
export { parseIdentityConfig } from './identity/config.ts';
export type {
  DetectorContext,
  DetectorMeta,
  DetectorState,
  Entities,
  IdentityDetector,
  IdentityFinding,
  IdentitySeverity,
  ThresholdLevel,
} from './identity/detector.ts';
export { thresholdLevels } from './identity/detector.ts';
export type { IdentityConfig } from './identity/directory.ts';
export {
  builtInSensitiveGroups,
  canonicalAccount,
  canonicalHost,
  DirectoryKnowledge,
  rdnValue,
} from './identity/directory.ts';
export type { Exclusions, IdentityEngineConfig } from './identity/engine.ts';
export { IdentityEngine } from './identity/engine.ts';
export { eventFromJson } from './json-events.ts';
export { type WatchOptions, type WatchSummary, watchCapture } from './live.ts';
export type { ScanFileProblem, ScanOptions, ScanProgress, ScanResult, ScanSummary } from './scan.ts';
export { compareAlerts, findEventFiles, readJsonEvents, scanFiles, splitJsonValues } from './scan.ts';
export { compileCidr, compilePattern, compileValueTest, parseIp, timePart } from './value-match.ts';
