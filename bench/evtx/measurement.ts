// What one timed run over the corpus produced; Palisade's modes report it as a JSON line from
// their own process, evtxexport's runner builds it directly.

/** One tool, one mode, all passes over the corpus. */
export interface Measurement {
  /** Event records produced over all passes. */
  readonly events: number;
  /** Input bytes read over all passes. */
  readonly bytes: number;
  readonly seconds: number;
  /** Peak resident set size in KiB; undefined when it could not be measured. */
  readonly peakRssKb: number | undefined;
}

/** A Palisade mode's result: also the records it recovered (which evtxexport does not export). */
export interface PalisadeMeasurement extends Measurement {
  readonly recovered: number;
  readonly threads: number;
}
