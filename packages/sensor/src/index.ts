// Public surface of @palisade/sensor.
export type { Checkpoint, Source, SourceChunk, SourceContext, SourceHealthIssue } from './source.ts';
export { chunkLimits } from './source.ts';
