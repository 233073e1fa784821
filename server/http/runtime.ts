import type { Orm } from "../../db/orm";
import { type ArtifactStorage, LocalArtifactStorage } from "../services/artifacts/storage";
import type { Config } from "../config";
import type { Logger } from "../logger";

/** What one app process holds: created once at boot, handed to every request. */
export type Runtime = {
  config: Config;
  log: Logger;
  orm: Orm;
  startedAt: Date;
  version: string;
  /** Set on SIGTERM: /readyz turns 503 so a load balancer stops sending traffic. */
  draining: boolean;
  /** Where artifact bytes go; a local directory (ARTIFACT_STORAGE_PATH) unless injected. */
  storage?: ArtifactStorage;
};

export function artifactStorage(runtime: Runtime): ArtifactStorage {
  runtime.storage ??= new LocalArtifactStorage(runtime.config.artifactStoragePath);
  return runtime.storage;
}
