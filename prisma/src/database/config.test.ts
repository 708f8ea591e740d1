import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { parseMasterKeys } from "./config.ts";

const key = () => randomBytes(32).toString("base64");

test("a key listed without an id gets one derived from the key, so reordering the list keeps it", () => {
  const [a, b] = [key(), key()];
  const alone = parseMasterKeys(a);
  expect(alone.primary).toMatch(/^k-[0-9a-f]{12}$/);
  expect(alone.keys).toEqual({ [alone.primary]: a });
  const rotated = parseMasterKeys(`${b},${a}`);
  expect(rotated.keys[alone.primary]).toBe(a);
  expect(rotated.primary).not.toBe(alone.primary);
});

test("named keys keep their ids and the first one is primary, so old keys can stay for rotation", () => {
  const [a, b] = [key(), key()];
  expect(parseMasterKeys(`k2026:${a}, k2025:${b}`)).toEqual({ keys: { k2026: a, k2025: b }, primary: "k2026" });
});

test("bad keys are refused with a message that says how to make a good one", () => {
  expect(() => parseMasterKeys("")).toThrow(/OPSCONDUCTOR_MASTER_KEY is empty; generate one with/);
  expect(() => parseMasterKeys(randomBytes(16).toString("base64"))).toThrow(/must be 32 random bytes in base64 \(44 characters\); generate one with: node -e/);
  expect(() => parseMasterKeys("not base64 at all!")).toThrow(/must be 32 random bytes/);
  expect(() => parseMasterKeys(`a:${key()},a:${key()}`)).toThrow(/key id "a" is listed twice/);
  expect(() => parseMasterKeys(`bad id:${key()}`)).toThrow(/key id "bad id" may hold only/);
});
