import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, type ReadStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Writable } from "node:stream";

/**
 * Where artifact bytes live. Today a local directory (possibly a volume shared by several
 * app instances): every operation is a path operation, nothing is remembered in memory.
 * Keys look like `host_<id>/<uuid>.<ext>`; temporary uploads are `host_<id>/.upload-<uuid>`.
 */
export interface ArtifactStorage {
  /** A temporary file in the host's folder, to stream an upload into. */
  createTemp(hostId: number): Promise<{ tempKey: string; stream: Writable }>;
  /** Moves a finished temporary file to its final key (atomic within the folder). */
  commit(tempKey: string, key: string): Promise<void>;
  /** Removes a key; a missing file is not an error. */
  remove(key: string): Promise<void>;
  size(key: string): Promise<number | null>;
  read(key: string, range?: { start: number; end: number }): ReadStream;
  /** Keys under a host folder with their age, for the orphan sweep. */
  list(): Promise<{ key: string; ageMs: number }[]>;
}

export function hostFolder(hostId: number): string {
  return `host_${hostId}`;
}

export class LocalArtifactStorage implements ArtifactStorage {
  constructor(
    private readonly root: string,
    /** Injected in tests to simulate a full disk or a failing device. */
    private readonly openWrite: (file: string) => Writable = (file) => createWriteStream(file, { flags: "wx", mode: 0o640 }),
  ) {}

  private resolve(key: string): string {
    const full = path.resolve(this.root, key);
    // Keys are built by us, but a path must never leave the storage root.
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`invalid storage key ${key}`);
    return full;
  }

  async createTemp(hostId: number) {
    const folder = hostFolder(hostId);
    await mkdir(this.resolve(folder), { recursive: true, mode: 0o750 });
    const tempKey = `${folder}/.upload-${randomUUID()}`;
    return { tempKey, stream: this.openWrite(this.resolve(tempKey)) };
  }

  async commit(tempKey: string, key: string) {
    await rename(this.resolve(tempKey), this.resolve(key));
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

  read(key: string, range?: { start: number; end: number }) {
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
}
