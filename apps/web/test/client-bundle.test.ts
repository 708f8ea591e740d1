// What the browser downloads: the production build's client chunks carry no server code (no text of
// a .server module, no Prisma client, no Node builtin), while a page does get the zod schema it
// shares with its API route. Remix's Vite plugin already refuses a .server import from client code;
// this catches server code that reaches the browser through a module without the suffix.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, inject, test } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    webBuildDir: string;
  }
}

const APP_DIR = join(import.meta.dirname, "..", "app");

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(suffix))
    .map((name) => join(dir, name));
}

// Messages and SQL of the server modules: double-quoted strings of three words or more.
const serverTexts = filesUnder(APP_DIR, ".server.ts").flatMap((file) =>
  [...readFileSync(file, "utf8").matchAll(/"((?:[^"\\\n]|\\.){20,})"/g)]
    .map((m) => m[1]!)
    .filter((text) => text.trim().split(/\s+/).length >= 3)
    .map((text) => ({ text, file: relative(APP_DIR, file) })),
);

const clientDir = join(inject("webBuildDir"), "client");
const chunks = filesUnder(clientDir, ".js").map((file) => ({ name: relative(clientDir, file), code: readFileSync(file, "utf8") }));

test("the build has client chunks and the server modules have texts to look for", () => {
  expect(chunks.length).toBeGreaterThan(5);
  expect(serverTexts.length).toBeGreaterThan(50);
});

test("no client chunk carries a server module's text, the Prisma client or a Node builtin", () => {
  const found: string[] = [];
  for (const chunk of chunks) {
    for (const { text, file } of serverTexts) if (chunk.code.includes(text)) found.push(`${chunk.name}: "${text}" of ${file}`);
    // The generated client's error class, and Vite's stand-in for a Node builtin in browser code.
    for (const marker of ["PrismaClientKnownRequestError", "__vite-browser-external"]) if (chunk.code.includes(marker)) found.push(`${chunk.name}: ${marker}`);
  }
  expect(found).toEqual([]);
});

test("the login page's chunk carries the sign-in schema that POST /api/login validates with", () => {
  const login = chunks.filter((chunk) => /^assets\/login-[\w-]+\.js$/.test(chunk.name));
  expect(login).toHaveLength(1);
  // schemas/auth.ts: loginBody's limits survive minification as method calls on the fields.
  expect(login[0]!.code).toMatch(/username:[\w$]+\(\)\.min\(1\)\.max\(200\),password:[\w$]+\(\)\.min\(1\)\.max\(1024\)/);
});
