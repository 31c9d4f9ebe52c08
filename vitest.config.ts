import { defineConfig } from "vitest/config";

// One runner for the whole repository. Tests touch a real PostgreSQL and train real models,
// so they get long timeouts and run file by file on a 2-core machine rather than in a flood.
// Test output stays readable: components log warnings and errors only, unless LOG_LEVEL sets another level.
process.env.LOG_LEVEL ??= "warn";

export default defineConfig({
  test: {
    include: ["{apps,packages}/*/{src,test}/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "apps/web/.next/**"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    pool: "forks",
  },
});
