import { describe, expect, test } from "vitest";
import { uploadOutcomeNotice } from "../../../app/components/host-artifacts-format";
import { parseUploadOutcome, UPLOAD_FAILURES, uploadFailureOfStatus } from "../../../server/domain/artifacts/upload-outcome";

describe("upload outcomes carried by ?artifact=", () => {
  test("only the fixed names are read from the URL; anything else shows nothing", () => {
    expect(parseUploadOutcome("uploaded")).toBe("uploaded");
    expect(parseUploadOutcome("too_large")).toBe("too_large");
    for (const raw of [null, "", "Uploaded", "<script>", "too_large "]) expect(parseUploadOutcome(raw)).toBeNull();
  });

  test("each refusal status names its outcome; an unknown one is a plain failure", () => {
    expect([413, 400, 408, 507, 403, 500, 502].map(uploadFailureOfStatus)).toEqual([
      "too_large",
      "no_file",
      "stalled",
      "store_full",
      "refused",
      "failed",
      "failed",
    ]);
  });

  test("every refusal is worded as an error that says nothing was stored; too_large names the limit", () => {
    for (const outcome of UPLOAD_FAILURES) {
      const notice = uploadOutcomeNotice(outcome, 1024);
      expect(notice.ok, outcome).toBe(false);
      expect(notice.text, outcome).toContain("nothing was stored");
    }
    expect(uploadOutcomeNotice("too_large", 5 * 1024 * 1024).text).toContain("upload limit of 5.0 MB");
    expect(uploadOutcomeNotice("uploaded", 1024)).toEqual({ ok: true, text: "Uploaded." });
  });
});
