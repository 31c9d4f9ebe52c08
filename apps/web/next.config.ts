import path from "node:path";
import type { NextConfig } from "next";

const config: NextConfig = {
  // The workspace root holds the lockfile; without this Next guesses it and warns on every start.
  turbopack: { root: path.resolve(import.meta.dirname, "../..") },
  outputFileTracingRoot: path.resolve(import.meta.dirname, "../.."),
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
