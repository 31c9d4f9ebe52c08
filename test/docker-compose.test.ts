import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const SECRETS = {
  POSTGRES_PASSWORD: "secret",
  EDITOR_TOKEN: "cnl_editor",
  WORKER_TOKEN: "cnl_worker",
};

/** `docker compose` (v2 plugin) where installed, else Debian's docker-compose (v1). */
function composeCommand(): string[] {
  if (spawnSync("docker", ["compose", "version"]).status === 0) return ["docker", "compose"];
  return ["docker-compose"];
}

function composeConfig(env: Record<string, string>): { status: number | null; output: string } {
  const [command, ...args] = composeCommand();
  const result = spawnSync(command ?? "docker-compose", [...args, "config"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    encoding: "utf8",
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("docker-compose.yml", () => {
  test("passes compose config with the secrets set", () => {
    const result = composeConfig(SECRETS);

    expect(result.output).toContain("trainer:");
    expect(result.status).toBe(0);
  });

  test("lets the trainer service scale", () => {
    const [command, ...args] = composeCommand();
    const config = execFileSync(command ?? "docker-compose", [...args, "config"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...SECRETS },
      encoding: "utf8",
    });
    const trainer = config.slice(config.indexOf("  trainer:"));

    expect(trainer).not.toMatch(/container_name:/);
    expect(trainer.split(/\n {2}\w/)[0]).not.toMatch(/ports:/);
  });

  test("names the missing secret when .env lacks it", () => {
    const result = composeConfig({});

    expect(result.status).not.toBe(0);
    expect(result.output).toContain("set POSTGRES_PASSWORD in .env");
  });
});
