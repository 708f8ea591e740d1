// The page helpers' decisions that need no browser: which role gets the 403 page, and the messages
// forms show next to their fields (the same in the browser and in page actions).
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { readPageQuery, requirePermission } from "../app/http/page.server.ts";
import { fieldMessage, parseForm } from "../app/lib/forms.ts";
import { ROLES } from "../app/lib/permissions.ts";
import { sortQuery, sortValue } from "../app/lib/sort.ts";
import { passwordChangeBody, profileBody } from "../app/schemas/users.ts";

function thrownBy(work: () => void): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("requirePermission, the check of pageLoader and pageAction", () => {
  test("a role without the permission gets the 403 page, naming the permission and role but nothing else", () => {
    const refused = thrownBy(() => requirePermission({ role: "viewer" }, "users:read")) as { data: unknown; init: { status: number } };
    expect(refused.init.status).toBe(403);
    expect(refused.data).toEqual({ permission: "users:read", role: "viewer" });
    expect(thrownBy(() => requirePermission({ role: "operator" }, "audit:read"))).toBeDefined();
    expect(thrownBy(() => requirePermission({ role: "admin" }, "users:read"))).toBeUndefined();
  });

  test("the Profile page's permissions let every role in, and a page without a permission needs only sign-in", () => {
    for (const role of ROLES) {
      expect(thrownBy(() => requirePermission({ role }, "profile:read"))).toBeUndefined();
      expect(thrownBy(() => requirePermission({ role }, "profile:write"))).toBeUndefined();
      expect(thrownBy(() => requirePermission({ role }, undefined))).toBeUndefined();
    }
  });
});

describe("form messages", () => {
  const form = (entries: Record<string, string>) => new URLSearchParams(entries);

  test("an empty required field says Required, a rule's message reads as a sentence, and what parses comes out typed", () => {
    const schema = passwordChangeBody;
    const bad = parseForm(form({ currentPassword: "", newPassword: "short" }), schema);
    expect(bad.status).toBe("error");
    expect(bad.status === "error" && bad.error).toEqual({ currentPassword: ["Required."], newPassword: ["Must be at least 12 characters."] });
    const good = parseForm(form({ currentPassword: "old", newPassword: "long-enough-password" }), schema);
    expect(good.status === "success" && good.value).toEqual({ currentPassword: "old", newPassword: "long-enough-password" });
  });

  test("an empty optional field is left out, a bad email says so, and a reply never carries a hidden field", () => {
    const bad = parseForm(form({ displayName: "Dana", email: "nope", secret: "s3cret" }), profileBody.extend({ secret: z.string() }));
    expect(bad.status === "error" && bad.error).toEqual({ email: ["Must be an email address."] });
    const reply = bad.reply({ hideFields: ["secret"] });
    expect(JSON.stringify(reply)).not.toContain("s3cret");
    expect(reply.initialValue).toMatchObject({ displayName: "Dana", email: "nope" });
    const empty = parseForm(form({ displayName: "", email: "" }), profileBody);
    expect(empty.status === "success" && empty.value).toEqual({});
  });

  test("a service's message about a field loses the field's path", () => {
    expect(fieldMessage("body.currentPassword is not your current password", "body.currentPassword")).toBe("This is not your current password.");
    expect(fieldMessage("body.newPassword must differ from the current password", "body.newPassword")).toBe("Must differ from the current password.");
    expect(fieldMessage("a user with this email already exists", "body.email")).toBe("A user with this email already exists.");
  });
});

describe("a list's address: its order and filters", () => {
  const query = z.object({ q: z.string().max(10).optional(), sort: sortQuery(["name", "createdAt"], { key: "createdAt", direction: "desc" }) });
  const read = (search: string) => readPageQuery(new Request(`http://app.test/list${search}`), query);

  test("sort=name is ascending, sort=-name descending, and no sort (or an empty one) is the list's default", () => {
    expect(read("?sort=name").sort).toEqual({ key: "name", direction: "asc" });
    expect(read("?sort=-name").sort).toEqual({ key: "name", direction: "desc" });
    expect(read("").sort).toEqual({ key: "createdAt", direction: "desc" });
    expect(read("?sort=&q=").sort).toEqual({ key: "createdAt", direction: "desc" });
    expect(sortValue({ key: "name", direction: "desc" })).toBe("-name");
  });

  test("empty filter fields are left out, and a value the list does not know is the 400 page naming the parameter", () => {
    expect(read("?q=").q).toBeUndefined();
    expect(read("?q=web").q).toBe("web");
    const refused = thrownBy(() => read("?sort=password")) as { data: { problems: string[] }; init: { status: number } };
    expect(refused.init.status).toBe(400);
    expect(refused.data.problems).toEqual(["sort must be one of name, -name, createdAt, -createdAt"]);
    const tooLong = thrownBy(() => read("?q=much-too-long-for-it")) as { data: { problems: string[] } };
    expect(tooLong.data.problems[0]).toMatch(/^q /);
  });
});
