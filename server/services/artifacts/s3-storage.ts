import { PassThrough, Readable, Writable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ConfigError, type S3StoreConfig } from "../../config";
import { type ArtifactStorage, type ArtifactUpload, HOST_KEY } from "./storage";

/** Parts of a multipart upload; at most QUEUE_SIZE × PART_SIZE bytes are buffered per upload. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** How long an abort waits for a request already in flight before deleting the key anyway. */
const ABORT_SETTLE_MS = 30_000;

/**
 * Artifacts in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, s3rver in tests). An
 * upload streams straight to its final key through lib-storage (one PutObject for small
 * files, multipart above PART_SIZE), so there is no temporary object to copy; the row is
 * what makes an artifact exist, and an object without a row is removed by abort or, after
 * a crash, by the orphan sweep (ADR 021). Downloads are ranged GETs.
 */
export class S3ArtifactStorage implements ArtifactStorage {
  readonly kind = "s3";
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(config: S3StoreConfig) {
    this.bucket = config.bucket;
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: config.credentials,
      // Checksums only where S3 demands them: not every S3-compatible server knows the new
      // CRC headers, and the route already hashes every byte with sha256.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
    });
  }

  async beginUpload(key: string): Promise<ArtifactUpload> {
    const body = new PassThrough({ highWaterMark: 256 * 1024 });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    const done = upload.done();
    done.catch(() => undefined); // observed through the stream below
    const stream = new UploadStream(body, done);
    return {
      stream,
      commit: async () => undefined, // the object is at its key once the stream finished
      abort: async () => {
        if (!stream.destroyed) stream.destroy(new Error("upload aborted"));
        await upload.abort().catch(() => undefined);
        // A PutObject or part already sent is not cancelled by abort(): let it settle,
        // then make sure no object is left under the key.
        await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, ABORT_SETTLE_MS).unref())]);
        await this.remove(key);
      },
    };
  }

  async remove(key: string) {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async size(key: string) {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return null;
      throw error;
    }
  }

  async read(key: string, range?: { start: number; end: number }) {
    const object = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
    );
    if (!(object.Body instanceof Readable)) throw new Error("the S3 client returned no readable body");
    return object.Body;
  }

  async list() {
    const out: { key: string; ageMs: number }[] = [];
    const now = Date.now();
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: "host_", ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key && HOST_KEY.test(object.Key)) {
          out.push({ key: object.Key, ageMs: now - (object.LastModified?.getTime() ?? now) });
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async check() {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (status === 404) throw storeProblem("S3_BUCKET", `bucket "${this.bucket}" does not exist at the configured endpoint`);
      if (status === 403 || status === 401) {
        throw storeProblem("S3_ACCESS_KEY_ID", `the credentials are refused for bucket "${this.bucket}" (HTTP ${status})`);
      }
      throw storeProblem("S3_ENDPOINT", `the object store cannot be reached (${(error as Error).message})`);
    }
  }

  close() {
    this.client.destroy();
  }
}

function storeProblem(variable: string, message: string): ConfigError {
  return new ConfigError([{ variable, message }]);
}

/**
 * The writable end of an upload. Writes go into lib-storage's body with backpressure;
 * `final` waits until the object (or the last part) is stored, so a pipeline into this
 * stream resolves only when the bytes are durable. A failed upload destroys the stream,
 * so a writer waiting for `drain` is never left hanging.
 */
class UploadStream extends Writable {
  constructor(
    private readonly body: PassThrough,
    private readonly done: Promise<unknown>,
  ) {
    super({ highWaterMark: 256 * 1024 });
    done.catch((error: unknown) => {
      if (!this.destroyed) this.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
    if (this.body.write(chunk)) callback();
    else this.body.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void) {
    this.body.end();
    this.done.then(
      () => callback(),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    if (!this.body.destroyed) this.body.destroy(error ?? new Error("upload cancelled"));
    callback(error);
  }
}
