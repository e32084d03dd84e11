// Public surface of @palisade/server: start the instance (`palisade up`), its configuration and
// logger, and the pieces a sensor or a test needs to speak to it.

export {
  checkDomain,
  defaultDataDir,
  defaultListen,
  type HuntConfig,
  huntEnvironment,
  type ListenAddress,
  parseListen,
  readHuntConfig,
  readUpConfig,
  type UpConfig,
  type UpFlags,
  upEnvironment,
} from './config.ts';
export type { RuleRun } from './custom-detections/custom-detection-runner.ts';
export type { Route, RouteRequest, RouteResponse } from './http/route.ts';
export {
  defaultHuntingLimits,
  duckDbHuntingEngine,
  type HuntingAnswer,
  type HuntingEngine,
  type HuntingLimits,
  type HuntingOutcome,
  huntingAnswer,
  mdeTypeNames,
  runHuntingQuery,
} from './hunting/hunting-engine.ts';
export {
  type CreatedInstance,
  dataLayout,
  directoryRoleNames,
  firstAdministratorName,
  InstanceError,
  type InstanceErrorCode,
  type InstanceOptions,
  type OpenedInstance,
  openHuntingReadOnly,
  openInstance,
} from './instance.ts';
export { createLogger, type Logger, type LoggerOptions, type LogLevel, silentLogger } from './log.ts';
export {
  type BatchAck,
  type BatchRejection,
  checkBatch,
  Pipeline,
  type PipelineOptions,
  rowEvent,
  type SensorBatch,
} from './pipeline.ts';
export { PkiError } from './pki/pki-error.ts';
export { type SensorCredentials, sensorAgentOptions } from './pki/tls.ts';
export { openApiOf } from './routes/route-table.ts';
export { accessKeyHeader, batchBodyLimit } from './routes/sensor-routes.ts';
export { type RunningInstance, type StartOptions, startInstance } from './up.ts';
