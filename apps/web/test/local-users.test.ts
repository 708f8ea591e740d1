// Local accounts as the web app creates them: passwords hashed with argon2id, the first admin made once.
import { findUserByUsername } from "@opsconductor/db";
import { createTestDatabase } from "@opsconductor/testing";
import { describe, expect, test } from "vitest";
import { createLocalUser, ensureAdminUser } from "../app/services/auth/local-users.server.ts";
import { verifyPassword } from "../app/services/auth/passwords.server.ts";

test("a local user's password is stored as a hash that verifies it, and a name differing only in case is a conflict", async () => {
  const { prisma } = await createTestDatabase();
  await createLocalUser(prisma, { username: "Alice", password: "correct horse battery staple" });
  await expect(createLocalUser(prisma, { username: "alice" })).rejects.toMatchObject({ code: "conflict", status: 409, field: "username" });
  const found = await findUserByUsername(prisma, "ALICE");
  expect(found?.passwordHash).not.toContain("correct horse");
  expect(await verifyPassword("correct horse battery staple", found!.passwordHash!)).toBe(true);
  expect(await verifyPassword("wrong", found!.passwordHash!)).toBe(false);
});

describe("first admin", () => {
  test("is created once, with a random password when none is configured", async () => {
    const db = await createTestDatabase();
    const first = await ensureAdminUser(db.prisma, {});
    expect(first.created).toBe(true);
    if (!first.created) throw new Error("unreachable");
    expect(first.generatedPassword).toMatch(/^[\w-]{24}$/);
    expect(first.generatedPassword).not.toBe("admin123");
    const admin = await findUserByUsername(db.prisma, "admin");
    expect(admin?.role).toBe("admin");
    expect(await verifyPassword(first.generatedPassword!, admin!.passwordHash!)).toBe(true);
    expect(await ensureAdminUser(db.prisma, { password: "another-password" })).toEqual({ created: false });
  });

  test("uses the configured password", async () => {
    const db = await createTestDatabase();
    expect(await ensureAdminUser(db.prisma, { password: "configured-secret-1" })).toEqual({ created: true, username: "admin", generatedPassword: null });
    const admin = await findUserByUsername(db.prisma, "admin");
    expect(await verifyPassword("configured-secret-1", admin!.passwordHash!)).toBe(true);
  });
});
