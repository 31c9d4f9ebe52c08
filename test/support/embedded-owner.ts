import { createLogger } from "@convnet/shared";
import { startEmbeddedPostgres } from "@convnet/shared/db";

// Owns an embedded server until killed; the embedded-database test SIGKILLs it on purpose.
const [dataDir, port] = process.argv.slice(2);
await startEmbeddedPostgres({
  dataDir: dataDir ?? "",
  port: Number(port),
  log: createLogger("embedded-owner"),
});
process.stdout.write("ready\n");
setInterval(() => {}, 60_000);
