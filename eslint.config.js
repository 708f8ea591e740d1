import js from "@eslint/js";
import tseslint from "typescript-eslint";
import noImportCycle from "./eslint-rules/no-import-cycle.js";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/build/**", ".tooling/**", ".data/**", "prisma/src/generated/**", "**/.cache/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", AbortController: "readonly", AbortSignal: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", fetch: "readonly", Response: "readonly", Request: "readonly", Headers: "readonly", structuredClone: "readonly", queueMicrotask: "readonly", setImmediate: "readonly" } },
    plugins: { workspace: { rules: { "no-import-cycle": noImportCycle } } },
    rules: {
      "workspace/no-import-cycle": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    files: ["scripts/**", "**/bench/**", "**/*.test.ts", "tests/**", "apps/worker/src/main.ts", "apps/web/server.ts", "prisma/src/database/cli.ts", "prisma/scripts/**"],
    rules: { "no-console": "off" },
  },
);
