import { randomBytes, randomUUID } from "node:crypto";
import { createKeyring, decryptSecret, encryptSecret } from "@opsconductor/core";
import { expect, test } from "vitest";
import { rewrapCredentialSecrets, sealedSecretColumns, sealedSecretFromColumns } from "./credentials.ts";
import { createTestDatabase } from "../testing/index.ts";

const { prisma } = await createTestDatabase();
const oldKey = randomBytes(32).toString("base64");
const newKey = randomBytes(32).toString("base64");

test("rotation: every secret moves to the new primary key, still decrypts, and stays bound to its row", async () => {
  const before = createKeyring({ keys: { "2026-11": oldKey }, primary: "2026-11" });
  const ids = [randomUUID(), randomUUID()];
  for (const [i, id] of ids.entries()) {
    const sealed = encryptSecret(before, JSON.stringify({ password: `pw-${i}` }), { aad: id });
    await prisma.credential.create({ data: { id, name: `cred-${i}`, type: "winrm", ...sealedSecretColumns(sealed) } });
  }
  const after = createKeyring({ keys: { "2027-01": newKey, "2026-11": oldKey }, primary: "2027-01" });
  expect(await rewrapCredentialSecrets(prisma, after)).toEqual({ rewrapped: 2, alreadyCurrent: 0 });
  expect(await rewrapCredentialSecrets(prisma, after)).toEqual({ rewrapped: 0, alreadyCurrent: 2 });

  const onlyNew = createKeyring({ keys: { "2027-01": newKey }, primary: "2027-01" });
  for (const [i, id] of ids.entries()) {
    const row = await prisma.credential.findUniqueOrThrow({ where: { id } });
    expect(row.keyId).toBe("2027-01");
    expect(JSON.parse(decryptSecret(onlyNew, sealedSecretFromColumns(row), { aad: id }))).toEqual({ password: `pw-${i}` });
    expect(() => decryptSecret(onlyNew, sealedSecretFromColumns(row), { aad: ids[1 - i]! })).toThrow();
  }
});
