import v8 from "node:v8";

/**
 * How far V8 lets the old generation grow past what survived the last full collection
 * before collecting again (ADR 014): the Node.js counterpart of Go's GOGC. V8's own
 * choice goes up to four times the live heap when collecting is cheap, which is most of
 * the time here; a long streamed import then fills that headroom with short-lived rows
 * that happened to outlive two scavenges, and RSS grows by 100-200 MB that hold no data.
 * At 100% (twice the live heap) a million-row import grows the process by 60-85 MB
 * instead. 50% kept it near 50 MB but cost an apply of 100,000 rows ~0.5 s more in the
 * collector; ordinary requests promote too little to notice either.
 */
export const OLD_GENERATION_GROWTH_PERCENT = 100;

/** Applies the limit to this process (the server at start; benchmarks that stand in for it). */
export function limitHeapHeadroom(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
}
