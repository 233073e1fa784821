import type { Orm } from "../../db/orm";
import { createArtifactStorage } from "../services/artifacts/create-storage";
import type { ArtifactStorage } from "../services/artifacts/storage";
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
  /** Where artifact bytes go (ARTIFACT_STORE: a local directory or S3), unless injected. */
  storage?: ArtifactStorage;
};

export function artifactStorage(runtime: Runtime): ArtifactStorage {
  runtime.storage ??= createArtifactStorage(runtime.config);
  return runtime.storage;
}
