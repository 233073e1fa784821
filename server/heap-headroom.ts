import v8 from "node:v8";

/**
 * How far V8 lets the old generation grow past what survived the last full collection
 * before collecting again (ADR 014): the Node.js counterpart of Go's GOGC. V8's own
 * choice goes up to four times the live heap when collecting is cheap, which is most of
 * the time here; a long streamed import then fills that headroom with short-lived rows
 * that happened to outlive two scavenges, and RSS grows by 100-200 MB that hold no data.
 * At 50% a million-row import grows the process by ~50 MB instead, for a few percent more
 * time in the collector during such imports and nothing measurable on ordinary requests.
 */
export const OLD_GENERATION_GROWTH_PERCENT = 50;

/** Applies the limit to this process (the server at start; benchmarks that stand in for it). */
export function limitHeapHeadroom(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
}
