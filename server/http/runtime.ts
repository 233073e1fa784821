import type { Orm } from "../../db/orm";
import { createArtifactStorage } from "../services/artifacts/create-storage";
import type { ArtifactStorage } from "../services/artifacts/storage";
import type { Config } from "../config";
import type { Logger } from "../logger";
import { createReadinessProbe, type ReadinessProbe } from "../services/readiness-probe";

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
  /** `/readyz`'s own connection, outside the ORM pool (made on first use). */
  readiness?: ReadinessProbe;
};

export function readinessProbe(runtime: Runtime): ReadinessProbe {
  runtime.readiness ??= createReadinessProbe(runtime.orm.config.get("clientUrl") as string);
  return runtime.readiness;
}

export function artifactStorage(runtime: Runtime): ArtifactStorage {
  runtime.storage ??= createArtifactStorage(runtime.config);
  return runtime.storage;
}
