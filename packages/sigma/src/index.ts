// Public surface of @palisade/sigma: loading rules and pipelines into typed documents.

export { parseCondition } from './condition.ts';
export type { SigmaDiagnostic, SigmaDiagnosticCode } from './diagnostics.ts';
export { formatSigmaDiagnostic, SigmaError, sigmaDiagnosticCodes } from './diagnostics.ts';
export type { LoadResult } from './load.ts';
export { loadSigmaPaths, loadSigmaText } from './load.ts';
export type { Placeholders, RawValue } from './modifiers.ts';
export { base64Offsets, buildValueTests, modifierKinds } from './modifiers.ts';
export type { ParseOptions } from './parse-rule.ts';
export { parseSigmaDocument, parseTimespan } from './parse-rule.ts';
export type { Pattern, PatternPart } from './pattern.ts';
export { formatPattern, isLiteral, parsePattern, patternText, wrapPattern } from './pattern.ts';
export type { LogSourceVariant, Pipeline, PipelineEntry } from './pipeline.ts';
export { combinePipelines, parsePipeline, resolveLogSource, windowsPipeline } from './pipeline.ts';
export type {
  Condition,
  CorrelationComparison,
  CorrelationCondition,
  CorrelationRule,
  CorrelationType,
  DetectionRule,
  FieldTest,
  FilterRule,
  LogSource,
  RuleMeta,
  Search,
  SigmaDocument,
  SigmaLevel,
  SourceLocation,
  TimePart,
  ValueTest,
} from './rule.ts';
export { correlationTypes, sigmaLevels, timeParts } from './rule.ts';
