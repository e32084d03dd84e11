// Public surface of @palisade/server: start the instance (`palisade up`), its configuration and
// logger, and the pieces a sensor or a test needs to speak to it.

export {
  checkDomain,
  defaultDataDir,
  defaultListen,
  type ListenAddress,
  parseListen,
  readUpConfig,
  type UpConfig,
  type UpFlags,
  upEnvironment,
} from './config.ts';
export type { Route, RouteRequest, RouteResponse } from './http/route.ts';
export {
  type CreatedInstance,
  dataLayout,
  directoryRoleNames,
  firstAdministratorName,
  InstanceError,
  type InstanceErrorCode,
  type InstanceOptions,
  type OpenedInstance,
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
