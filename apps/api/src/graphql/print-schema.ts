import "reflect-metadata";
import { createLogger } from "@convnet/shared";
import { PostgresPubSub } from "../pubsub";
import { createSchema, SCHEMA_FILE, writeSchemaFile } from "./schema";

// Building the schema needs a PubSub object but never connects it.
const pubsub = new PostgresPubSub("postgresql://unused", createLogger("schema-print"));
await writeSchemaFile(await createSchema(pubsub));
await pubsub.close();
console.log(`Wrote ${SCHEMA_FILE}`);
