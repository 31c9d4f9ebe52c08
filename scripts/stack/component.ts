import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@convnet/shared";

const GUARD = path.resolve(import.meta.dirname, "child-guard.ts");
const ROOT = path.resolve(import.meta.dirname, "../..");

export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Restart after a crash (trainer workers); otherwise any unexpected exit stops the stack. */
  restart: boolean;
}

/**
 * One supervised process of the local stack, started through the child guard so that it ends
 * with the supervisor. Restarts back off exponentially and give up after five quick failures.
 */
export class Component {
  private child: ChildProcess | undefined;
  private stopping = false;
  private recentFailures: number[] = [];

  constructor(
    readonly spec: ComponentSpec,
    private readonly log: Logger,
    private readonly onFatalExit: (name: string, code: number | null) => void,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  start(): void {
    const { command, args, env } = this.spec;
    this.child = fork(GUARD, [command, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.log.debug({ component: this.spec.name, pid: this.child.pid }, "Started component");
    this.child.on("exit", (code) => void this.handleExit(code));
  }

  private async handleExit(code: number | null): Promise<void> {
    this.child = undefined;
    if (this.stopping) return;
    if (!this.spec.restart) {
      this.onFatalExit(this.spec.name, code);
      return;
    }
    // Exit code 0 is a deliberate stop (a worker finishing after the terminal's Ctrl-C reached it
    // before the supervisor's own shutdown), not a crash to restart.
    if (code === 0) {
      this.log.info({ component: this.spec.name }, "Component stopped");
      return;
    }

    const now = Date.now();
    this.recentFailures = [...this.recentFailures.filter((time) => now - time < 60_000), now];
    if (this.recentFailures.length > 5) {
      this.log.error(
        { component: this.spec.name, code },
        "Component keeps failing; not restarting it",
      );
      return;
    }
    const delay = 1_000 * 2 ** (this.recentFailures.length - 1);
    this.log.warn(
      { component: this.spec.name, code, delayMs: delay },
      "Component exited; restarting",
    );
    await sleep(delay);
    if (!this.stopping) this.start();
  }

  async stop(timeoutMs = 20_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
