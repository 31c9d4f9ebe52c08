import { invalidInput } from "../../server/errors";

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Rejects an id that is not a UUID before it reaches SQL, where it would fail as a cast error. */
export function checkId(value: string, field: string): string {
  if (!UUID_PATTERN.test(value)) {
    throw invalidInput([{ field, message: `${JSON.stringify(value)} is not a valid id (a UUID)` }]);
  }
  return value;
}
