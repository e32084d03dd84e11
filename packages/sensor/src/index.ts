// Public surface of @palisade/sensor.
export {
  checkConfigFile,
  defaultSensorDir,
  defaultSources,
  loadSensorConfig,
  type SensorConfig,
  SensorConfigError,
  type SourceName,
  type SourceSettings,
  sensorDirOf,
  sensorEnv,
  sourceNames,
} from './config.ts';
export { type BufferedBatch, type BufferStats, DeliveryBuffer } from './delivery-buffer.ts';
export {
  type CommandRunner,
  type HostFacts,
  type HostProbe,
  hostProbe,
  parseSambaGlobals,
  readHostFacts,
  type SensorKind,
  sensorKindOf,
  sensorKinds,
  sensorKindTitles,
} from './host-facts.ts';
export {
  type Registration,
  RegistrationError,
  readSensorIdentity,
  registerSensor,
  type SensorIdentity,
  sensorChannel,
  sensorFiles,
} from './registration.ts';
export {
  checkSambaAudit,
  parseSambaLogLevel,
  requiredSambaAudit,
  sambaAuditFiles,
} from './samba-settings.ts';
export { type RunningSensor, startSensor } from './sensor-app.ts';
export { type DoctorCheck, parseAuditpol, runDoctor } from './sensor-doctor.ts';
export { type RunnerEvent, type RunnerStatus, SensorRunner } from './sensor-runner.ts';
export { ChannelError, ServerChannel } from './server-channel.ts';
export type { Checkpoint, Source, SourceChunk, SourceContext, SourceHealthIssue } from './source.ts';
export { chunkLimits, deliveryLimits } from './source.ts';
export { CaptureSource } from './sources/capture-source.ts';
export {
  type DirectoryConnectionOptions,
  DirectoryError,
  type DirectoryErrorCode,
  directoryErrorCodes,
} from './sources/directory-ldap.ts';
export type { SensitiveEntity } from './sources/directory-membership.ts';
export { DirectorySource, type DirectorySourceOptions } from './sources/directory-source.ts';
export type { DirectoryCheckpoint } from './sources/directory-sync.ts';
export {
  type EvtxFilesCheckpoint,
  type EvtxFilesSourceOptions,
  evtxFilesSource,
} from './sources/evtx-files-source.ts';
export type {
  LineTailCheckpoint,
  LineTailOptions,
  TailBatch,
  TailEvent,
  TailLine,
} from './sources/line-tail.ts';
export { tailLines } from './sources/line-tail.ts';
export {
  type AuditdDiagnostic,
  type AuditdDiagnosticCode,
  AuditdNormaliser,
  type AuditdOptions,
  type AuditdOutput,
  type AuditdResumePoint,
  auditdDiagnosticCodes,
  normaliseAuditLog,
} from './sources/linux-auditd.ts';
export {
  type AuditdCheckpoint,
  type AuditdSourceOptions,
  auditdSource,
} from './sources/linux-auditd-source.ts';
export {
  type InventoryCheckpoint,
  type InventoryOptions,
  inventoryHealthCodes,
  type LinuxPaths,
  type LinuxProbe,
  linuxHostSource,
  linuxPaths,
  linuxProbe,
  linuxSoftwareSource,
  readHostSnapshot,
  readSoftwareSnapshot,
} from './sources/linux-inventory.ts';
export { passwdFileResolver, passwdResolver, type UidResolver } from './sources/linux-passwd.ts';
export { type SambaAuditSourceOptions, sambaAuditSource } from './sources/samba-audit-source.ts';
export { reportTailEvent } from './sources/tail-health.ts';
export {
  type CommandResult,
  runCommand as runWindowsCommand,
  type WindowsChannelCheckpoint,
  type WindowsChannelSourceOptions,
  windowsChannelSource,
} from './sources/windows-channel-source.ts';
