// Fails on any cycle in the workspace's import graph, type-only imports included. import-x/no-cycle
// skips type-only imports, so it passes on modules that import each other's types in a circle;
// such a circle still ties the modules into one, and becomes a load-order cycle as soon as one
// import of it carries a value. Imports of workspace packages are followed into their sources.
import { readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const workspaceRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const sourceExtensions = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];
// The condition the apps run with (see the packages' `exports`), then plain ESM.
const exportConditions = ["@opsconductor/source", "import", "default"];
const skippedKeys = new Set(["parent", "loc", "range", "tokens", "comments"]);

function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function insideWorkspace(path) {
  const inside = relative(workspaceRoot, path);
  return !inside.startsWith("..") && !inside.split(sep).includes("node_modules");
}

function isWorkspaceSource(path) {
  return insideWorkspace(path) && sourceExtensions.some((ext) => path.endsWith(ext));
}

function resolveFile(path) {
  const candidates = [path, ...sourceExtensions.map((ext) => path + ext), ...sourceExtensions.map((ext) => join(path, `index${ext}`))];
  // TypeScript lets "./x.js" name x.ts.
  if (/\.[cm]?js$/.test(path)) candidates.push(path.replace(/js$/, "ts"), path.replace(/\.js$/, ".tsx"));
  for (const candidate of candidates) {
    if (!isFile(candidate)) continue;
    const real = realpathSync(candidate);
    return isWorkspaceSource(real) ? real : undefined;
  }
  return undefined;
}

function pickCondition(entry) {
  if (typeof entry === "string") return entry;
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return undefined;
  for (const condition of exportConditions) {
    if (condition in entry) return pickCondition(entry[condition]);
  }
  return undefined;
}

function packageEntry(manifest, subpath) {
  const { exports } = manifest;
  if (exports === undefined) return subpath === "." ? (manifest.main ?? "index.js") : subpath;
  const bySubpath = typeof exports === "object" && exports !== null && Object.keys(exports).some((key) => key.startsWith("."));
  if (bySubpath) return pickCondition(exports[subpath]);
  return subpath === "." ? pickCondition(exports) : undefined;
}

// Only packages that are part of the workspace (linked into node_modules) are followed.
function resolvePackage(specifier, fromFile) {
  const parts = specifier.split("/");
  const nameLength = specifier.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameLength).join("/");
  const subpath = ["."].concat(parts.slice(nameLength)).join("/");
  for (let dir = dirname(fromFile); ; dir = dirname(dir)) {
    const manifestPath = join(dir, "node_modules", name, "package.json");
    if (isFile(manifestPath)) {
      const packageDir = realpathSync(dirname(manifestPath));
      if (!insideWorkspace(packageDir)) return undefined;
      const entry = packageEntry(JSON.parse(readFileSync(manifestPath, "utf8")), subpath);
      return entry === undefined ? undefined : resolveFile(resolve(packageDir, entry));
    }
    if (dir === dirname(dir) || !insideWorkspace(dir)) return undefined;
  }
}

function resolveSpecifier(specifier, fromFile) {
  const path = specifier.split("?")[0];
  if (path.startsWith(".") || path.startsWith("/")) return resolveFile(resolve(dirname(fromFile), path));
  if (path.startsWith("node:") || path === "") return undefined;
  return resolvePackage(path, fromFile);
}

/** Every string literal that names a module in `ast`: imports, re-exports, `import()` and `import("x").T`. */
function moduleSpecifiers(ast) {
  const found = [];
  const literal = (node) => {
    if (node?.type === "Literal" && typeof node.value === "string") found.push(node);
  };
  const visit = (node) => {
    switch (node.type) {
      case "ImportDeclaration":
      case "ExportAllDeclaration":
      case "ExportNamedDeclaration":
      case "ImportExpression":
        literal(node.source);
        break;
      case "TSImportEqualsDeclaration":
        if (node.moduleReference.type === "TSExternalModuleReference") literal(node.moduleReference.expression);
        break;
      case "TSImportType":
        literal(node.argument?.type === "TSLiteralType" ? node.argument.literal : node.argument);
        break;
    }
    for (const [key, value] of Object.entries(node)) {
      if (skippedKeys.has(key) || value === null || typeof value !== "object") continue;
      for (const child of Array.isArray(value) ? value : [value]) {
        if (child !== null && typeof child === "object" && typeof child.type === "string") visit(child);
      }
    }
  };
  visit(ast);
  return found;
}

const importsCache = new Map();

function importsOf(file) {
  const { mtimeMs } = statSync(file);
  const cached = importsCache.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached.imports;
  // TypeScript's pre-processor scans (not parses) a file for the same module references that
  // moduleSpecifiers finds in the linted file's syntax tree, quickly and skipping strings and comments.
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  const imports = [...new Set(importedFiles.map(({ fileName }) => resolveSpecifier(fileName, file)).filter(Boolean))];
  importsCache.set(file, { mtimeMs, imports });
  return imports;
}

/** The shortest import path from `start` back to `goal` (both included), or undefined. */
function pathBack(start, goal) {
  const cameFrom = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const next of importsOf(file)) {
      if (next === goal) {
        const path = [goal];
        for (let at = file; at !== undefined; at = cameFrom.get(at)) path.unshift(at);
        return path;
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** @type {import("eslint").Rule.RuleModule} */
export default {
  meta: {
    type: "problem",
    docs: { description: "Forbid import cycles across the workspace, type-only imports included" },
    schema: [],
    messages: { cycle: "Import cycle: {{cycle}}. Move what both sides need into a module that imports neither." },
  },
  create(context) {
    const filename = context.physicalFilename;
    if (!isFile(filename)) return {};
    const self = realpathSync(filename);
    return {
      Program(program) {
        const reported = new Set();
        for (const node of moduleSpecifiers(program)) {
          const target = resolveSpecifier(node.value, self);
          if (target === undefined || reported.has(target)) continue;
          reported.add(target);
          const path = target === self ? [self] : pathBack(target, self);
          if (path === undefined) continue;
          const cycle = [self, ...path].map((file) => relative(context.cwd, file)).join(" → ");
          context.report({ node, messageId: "cycle", data: { cycle } });
        }
      },
    };
  },
};
