import { createLogger, loadConfig, SetupError } from "@convnet/shared";
import { migrate, openDatabase } from "@convnet/shared/db";

// Applies pending migrations to the configured database (DATABASE_URL or the embedded one).
const log = createLogger("migrate");
try {
  const database = await openDatabase(loadConfig(), log, { shareRunning: true });
  // A database shared with a running start is not migrated by openDatabase, so migrate here.
  await migrate(database.url, log);
  await database.stop();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  process.stderr.write(`Cannot migrate: ${error.message}\nFix: ${error.fix}\n`);
  process.exitCode = 1;
}
