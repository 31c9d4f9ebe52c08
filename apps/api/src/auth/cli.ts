import { parseArgs } from "node:util";
import { createLogger, loadConfig, SetupError } from "@convnet/shared";
import { createPrismaClient, openDatabase } from "@convnet/shared/db";
import { isRole, ROLES } from "./roles";
import { createApiToken, generateToken, listApiTokens, revokeApiToken } from "./tokens";

const USAGE = `Usage:
  npm run token -- create --role <${ROLES.join("|")}> --label <name>   prints a new token once
  npm run token -- list                                               lists tokens (never their secrets)
  npm run token -- revoke <id>                                        revokes a token at once
  npm run token -- generate                                           prints a new random token without storing it
                                                                      (for BOOTSTRAP_EDITOR_TOKEN / BOOTSTRAP_WORKER_TOKEN)`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { role: { type: "string" }, label: { type: "string" }, help: { type: "boolean" } },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }

  if (command === "generate") {
    console.log(generateToken());
    return;
  }

  const log = createLogger("token-cli");
  const config = loadConfig();
  const database = await openDatabase(config, log, { shareRunning: true });
  const prisma = createPrismaClient(database.url, 2);
  try {
    switch (command) {
      case "create": {
        if (!isRole(values.role)) {
          throw new SetupError(
            `--role ${JSON.stringify(values.role ?? "")} is invalid.`,
            `Pass --role with one of ${ROLES.join(", ")}.`,
          );
        }
        if (!values.label) throw new SetupError("--label is missing.", "Pass --label <name>.");
        const { token, id } = await createApiToken(prisma, {
          role: values.role,
          label: values.label,
        });
        console.log(`Created ${values.role} token ${id} for ${values.label}. It is shown once:`);
        console.log(token);
        break;
      }
      case "list": {
        for (const row of await listApiTokens(prisma)) {
          const state = row.revokedAt ? `revoked ${row.revokedAt.toISOString()}` : "active";
          const used = row.lastUsedAt ? row.lastUsedAt.toISOString() : "never";
          console.log(
            `${row.id}  ${row.role.padEnd(6)}  ${row.prefix}…  ${row.label}  used ${used}  ${state}`,
          );
        }
        break;
      }
      case "revoke": {
        const id = rest[0];
        if (!id)
          throw new SetupError(
            "The token id is missing.",
            "Run: npm run token -- revoke <id> (ids from `list`).",
          );
        const revoked = await revokeApiToken(prisma, id);
        if (!revoked)
          throw new SetupError(
            `No active token has id ${id}.`,
            "Check the id with `npm run token -- list`.",
          );
        console.log(`Revoked token ${id}.`);
        break;
      }
      default:
        throw new SetupError(`Unknown command ${JSON.stringify(command)}.`, USAGE);
    }
  } finally {
    await prisma.$disconnect();
    await database.stop();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof SetupError) {
    console.error(`${error.message}\n${error.fix}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
