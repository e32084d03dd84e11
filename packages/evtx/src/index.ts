// Public surface of @palisade/evtx: streaming and in-memory readers, the typed event, diagnostics.

export type { EvtxDiagnostic, EvtxDiagnosticCode } from './diagnostics.ts';
export { evtxDiagnosticCodes, formatDiagnostic } from './diagnostics.ts';
export type { EventDataValue, EventSystem, EvtxEvent, UserDataObject, UserDataValue } from './event.ts';
export { EventBuilder } from './event.ts';
export type { ChunkHeader, FileHeader, ReadOptions, ReadSummary } from './reader.ts';
export {
  CHUNK_SIZE,
  FILE_HEADER_SIZE,
  parseEvtx,
  readChunkHeader,
  readEvtx,
  readEvtxChunks,
  readFileHeader,
} from './reader.ts';
export { ValueType } from './values.ts';
