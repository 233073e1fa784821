import type { Readable, Writable } from "node:stream";

/**
 * Where artifact bytes live: a local directory (the default, possibly a volume shared by
 * several instances) or an S3-compatible bucket (ADR 021). Every operation goes to the
 * store itself; nothing is remembered in memory, so any instance can serve any artifact.
 * Keys look like `host_<id>/<uuid>.<ext>`.
 */
export interface ArtifactStorage {
  readonly kind: "fs" | "s3";
  /**
   * Starts writing `key`. The returned stream's `finish` (a `pipeline` into it resolving)
   * means the bytes are durable; `commit()` then makes them visible under `key`. On any
   * failure call `abort()`: it removes whatever the upload left (temporary file, parts,
   * or an object already written).
   */
  beginUpload(key: string): Promise<ArtifactUpload>;
  /** Removes a key; a missing key is not an error. */
  remove(key: string): Promise<void>;
  /** The stored size in bytes, or null when the key does not exist. */
  size(key: string): Promise<number | null>;
  /** The bytes of `key`, or an inclusive byte range of them. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Every key under a host folder with its age, for the orphan sweep. */
  list(): Promise<{ key: string; ageMs: number }[]>;
  /** Throws a message an operator can act on when the store cannot be used (boot, /readyz). */
  check(): Promise<void>;
}

export type ArtifactUpload = {
  stream: Writable;
  commit(): Promise<void>;
  abort(): Promise<void>;
};

export function hostFolder(hostId: number): string {
  return `host_${hostId}`;
}

/** Keys the sweep may look at: files directly inside a host folder. */
export const HOST_KEY = /^host_\d+\/[^/]+$/;
