import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createSecretMasker, MASK } from "./masker.ts";

function streamAll(secrets: string[], chunks: string[]): string {
  const stream = createSecretMasker(secrets).stream();
  return chunks.map((chunk) => stream.push(chunk)).join("") + stream.flush();
}

describe("createSecretMasker", () => {
  test("masks every occurrence of every secret", () => {
    const masker = createSecretMasker(["hunter2", "s3cr3t"]);
    expect(masker.mask("user=admin password=hunter2 token=s3cr3t again hunter2")).toBe(
      `user=admin password=${MASK} token=${MASK} again ${MASK}`,
    );
  });

  test("masks overlapping secrets entirely", () => {
    expect(createSecretMasker(["abc", "bcdef"]).mask("xabcdefx")).toBe(`x${MASK}x`);
  });

  test("ignores empty secrets and counts distinct ones", () => {
    const masker = createSecretMasker(["", "a1", "a1"]);
    expect(masker.size).toBe(1);
    expect(masker.mask("")).toBe("");
  });

  test("masks strings inside objects and arrays, and secrets added later", () => {
    const masker = createSecretMasker();
    masker.add("pw");
    expect(masker.maskDeep({ a: ["pw!", 1, null], b: { c: "no pw" } })).toEqual({ a: [`${MASK}!`, 1, null], b: { c: `no ${MASK}` } });
  });

  test("masks a secret split across chunks and holds back only what might be a secret", () => {
    const stream = createSecretMasker(["hunter2"]).stream();
    expect(stream.push("password: hun")).toBe("password: ");
    expect(stream.push("ter")).toBe("");
    expect(stream.push("2")).toBe("");
    expect(stream.push(" done")).toBe(`${MASK} done`);
    expect(stream.push(" hunt")).toBe(" ");
    expect(stream.flush()).toBe("hunt");
  });

  test("property: however the text is chunked, no secret leaks and the rest is unchanged", () => {
    const alphabet = fc.constantFrom("a", "b", "c", "x", " ");
    const secret = fc.string({ unit: alphabet, minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 3 }),
        fc.string({ unit: alphabet, maxLength: 40 }),
        fc.array(fc.nat(40), { maxLength: 8 }),
        (secrets, text, cuts) => {
          const positions = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let last = 0;
          for (const position of [...positions, text.length]) {
            chunks.push(text.slice(last, position));
            last = position;
          }
          const streamed = streamAll(secrets, chunks);
          // Streaming masks exactly what masking the whole text at once does.
          expect(streamed).toBe(createSecretMasker(secrets).mask(text));
          // Removing the masks leaves no secret behind.
          for (const s of secrets) for (const piece of streamed.split(MASK)) expect(piece).not.toContain(s);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
