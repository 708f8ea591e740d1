import { vitePlugin as remix } from "@remix-run/dev";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

declare module "@remix-run/node" {
  interface Future {
    v3_singleFetch: true;
  }
}

const WORKSPACE_PACKAGES = ["@opsconductor/core", "@opsconductor/db", "@opsconductor/winrm"];

export default defineConfig(({ isSsrBuild }) => ({
  plugins: [
    tailwindcss(),
    remix({
      // The test suite builds once per run into a folder of its own (tests/setup/global-setup.ts).
      buildDirectory: process.env.WEB_BUILD_DIR ?? "build",
      // Every v3 flag on, so the move to React Router 7 stays a codemod.
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_singleFetch: true,
        v3_lazyRouteDiscovery: true,
        v3_routeConfig: true,
      },
    }),
  ],
  resolve: { conditions: ["@opsconductor/source"] },
  // Workspace packages run from their TypeScript source in Node (type stripping) rather than being
  // bundled, so web and worker execute the very same modules.
  ssr: { external: WORKSPACE_PACKAGES, resolve: { externalConditions: ["@opsconductor/source"] } },
  // The browser bundle, which has no Node to load them from, bundles what pages import (the
  // generated enums of @opsconductor/db/enums, say).
  build: { rollupOptions: { external: (id) => isSsrBuild === true && WORKSPACE_PACKAGES.some((name) => id === name || id.startsWith(`${name}/`)) } },
}));
