import { describe, expect, test } from "vitest";
import { hostFieldsSchema } from "../../../server/domain/hosts/host-fields";
import { normaliseTags } from "../../../server/domain/hosts/tags";

const tagsOf = (tags: unknown) => hostFieldsSchema.parse({ hostname: "web01", tags }).tags;
const messageFor = (tags: unknown) =>
  hostFieldsSchema.safeParse({ hostname: "web01", tags }).error?.issues.find((issue) => issue.path[0] === "tags")
    ?.message;

describe("tag normalisation", () => {
  test("a string is split on ; and , then trimmed and lower-cased", () => {
    expect(tagsOf(" Web; EU-West ,tier:1 ")).toEqual(["web", "eu-west", "tier:1"]);
  });

  test("an array is accepted as it is, element by element", () => {
    expect(tagsOf(["DB", " primary "])).toEqual(["db", "primary"]);
  });

  test("duplicates are removed, keeping the first position", () => {
    expect(tagsOf("b;a;B;c;a")).toEqual(["b", "a", "c"]);
  });

  test("empty pieces from doubled or trailing separators are ignored", () => {
    expect(tagsOf("a;;b;, ;")).toEqual(["a", "b"]);
  });

  test("no tags gives an empty list", () => {
    expect(tagsOf(undefined)).toEqual([]);
    expect(tagsOf(null)).toEqual([]);
    expect(tagsOf("")).toEqual([]);
    expect(tagsOf([])).toEqual([]);
  });

  test("a tag may use _ . : and - after its first character", () => {
    expect(tagsOf("k8s.node_pool:a-1")).toEqual(["k8s.node_pool:a-1"]);
  });

  test("an invalid tag is named in the message", () => {
    expect(messageFor("ok;bad tag")).toBe(
      'Tag "bad tag" is not valid: a tag is 1 to 50 characters of letters, digits, "_", ".", ":" and "-", starting with a letter or digit',
    );
  });

  test("several invalid tags are listed together", () => {
    expect(messageFor(["-x", "_y", "$(id)"])).toMatch(/^Tags "-x", "_y", "\$\(id\)" are not valid/);
  });

  test("a tag longer than 50 characters is refused", () => {
    expect(tagsOf("a".repeat(50))).toEqual(["a".repeat(50)]);
    expect(messageFor("a".repeat(51))).toMatch(/^Tag "a+\.\.\." is not valid/);
  });

  test("at most 32 distinct tags are allowed", () => {
    const tags = Array.from({ length: 33 }, (_, index) => `t${index}`);
    expect(tagsOf(tags.slice(0, 32))).toHaveLength(32);
    expect(messageFor(tags)).toBe("A host can have at most 32 tags (got 33)");
    expect(tagsOf([...tags.slice(0, 32), "T0"])).toHaveLength(32);
  });

  test("anything other than text or a list of text is refused", () => {
    expect(normaliseTags(5)).toEqual({ ok: false, message: "Tags must be a list of words or a text separated by ; or ," });
    expect(normaliseTags(["a", 1])).toMatchObject({ ok: false });
  });
});
