import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { access, constants, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { finished } from "node:stream/promises";
import type { Writable } from "node:stream";
import { ConfigError } from "../../config";
import type { ArtifactStorage, ArtifactUpload } from "./storage";

/**
 * Artifacts in a local directory. An upload is written to `host_<id>/.upload-<uuid>` and
 * renamed into place on commit (atomic within the folder), so a reader never sees half a
 * file and a crash leaves only a temporary file for the orphan sweep.
 */
export class LocalArtifactStorage implements ArtifactStorage {
  readonly kind = "fs";

  constructor(
    private readonly root: string,
    /** Injected in tests to simulate a failing device. */
    private readonly openWrite: (file: string) => Writable = (file) => createWriteStream(file, { flags: "wx", mode: 0o640 }),
  ) {}

  private resolve(key: string): string {
    const full = path.resolve(this.root, key);
    // Keys are built by us, but a path must never leave the storage root.
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`invalid storage key ${key}`);
    return full;
  }

  async beginUpload(key: string): Promise<ArtifactUpload> {
    const folder = path.posix.dirname(key);
    await mkdir(this.resolve(folder), { recursive: true, mode: 0o750 });
    const tempFile = this.resolve(`${folder}/.upload-${randomUUID()}`);
    const stream = this.openWrite(tempFile);
    return {
      stream,
      commit: () => rename(tempFile, this.resolve(key)),
      abort: async () => {
        if (!stream.destroyed) stream.destroy();
        // Wait for the descriptor to close before the file goes (no handle left open).
        await finished(stream).catch(() => undefined);
        await rm(tempFile, { force: true });
      },
    };
  }

  async remove(key: string) {
    await rm(this.resolve(key), { force: true });
  }

  async size(key: string) {
    try {
      return (await stat(this.resolve(key))).size;
    } catch {
      return null;
    }
  }

  async read(key: string, range?: { start: number; end: number }) {
    return createReadStream(this.resolve(key), { ...range, highWaterMark: 256 * 1024 });
  }

  async list() {
    const out: { key: string; ageMs: number }[] = [];
    let folders: string[] = [];
    try {
      folders = (await readdir(this.root)).filter((f) => /^host_\d+$/.test(f));
    } catch {
      return out;
    }
    const now = Date.now();
    for (const folder of folders) {
      for (const name of await readdir(this.resolve(folder)).catch(() => [] as string[])) {
        const info = await stat(this.resolve(`${folder}/${name}`)).catch(() => null);
        if (info?.isFile()) out.push({ key: `${folder}/${name}`, ageMs: now - info.mtimeMs });
      }
    }
    return out;
  }

  async check() {
    await mkdir(this.root, { recursive: true, mode: 0o750 });
    await access(this.root, constants.W_OK).catch(() => {
      throw new ConfigError([{ variable: "ARTIFACT_STORAGE_PATH", message: `${this.root} is not writable by this process` }]);
    });
  }
}
