import { rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { makeTempDir } from "./temp-dir";

export type S3TestServer = {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Every object key in the bucket (completed objects only). */
  listKeys: () => Promise<string[]>;
  /** The bytes of one object, read with a client of the test's own. */
  getObject: (key: string) => Promise<Buffer>;
  close: () => Promise<void>;
};

/**
 * A real S3-compatible server (s3rver) on 127.0.0.1 with a free port, storing into its own
 * temporary directory, with one bucket. Path-style addressing (`S3_FORCE_PATH_STYLE=1`).
 * `close()` stops it and removes its directory; call it in afterAll.
 */
export async function startS3Server(bucket = "opsdesk-test"): Promise<S3TestServer> {
  const directory = makeTempDir("opsdesk-s3rver-");
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  // s3rver accepts these fixed credentials for signed requests.
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    endpoint,
    bucket,
    region: "us-east-1",
    ...credentials,
    listKeys: async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    getObject: async (key) => {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await object.Body!.transformToByteArray());
    },
    close: async () => {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
