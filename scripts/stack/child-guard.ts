import { spawn } from "node:child_process";

/**
 * Runs one component of the local stack (the command in argv) and ends it when the supervisor
 * goes away. The supervisor talks to this guard over an IPC channel, which closes when the
 * supervisor dies for any reason, including SIGKILL; the component then gets SIGTERM, so a killed
 * `npm start` leaves no server holding a port. Components need no code of their own for this.
 */
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: child-guard <command> [args...]");
  process.exit(2);
}

const child = spawn(command, args, { stdio: "inherit", detached: true });
let stopping = false;

function stop(signal: NodeJS.Signals): void {
  if (stopping || child.exitCode !== null || child.pid === undefined) return;
  stopping = true;
  process.kill(-child.pid, signal);
  setTimeout(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  }, 15_000).unref();
}

process.on("disconnect", () => stop("SIGTERM"));
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
  process.disconnect?.();
});
