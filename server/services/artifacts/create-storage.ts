import type { Config } from "../../config";
import { LocalArtifactStorage } from "./local-storage";
import { S3ArtifactStorage } from "./s3-storage";
import type { ArtifactStorage } from "./storage";

/** The artifact store the configuration names (`ARTIFACT_STORE`). */
export function createArtifactStorage(config: Config): ArtifactStorage {
  if (config.artifactStore === "s3" && config.s3) return new S3ArtifactStorage(config.s3);
  return new LocalArtifactStorage(config.artifactStoragePath);
}
