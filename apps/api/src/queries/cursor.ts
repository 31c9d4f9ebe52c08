import { invalidInput } from "../server/errors";

/** A position in a sorted list: the sort value of the last row seen and its id as a tiebreak. */
export interface Cursor {
  value: unknown;
  id: string;
}

/** Cursors are opaque to clients; base64url JSON keeps them short and URL-safe. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.value, cursor.id])).toString("base64url");
}

export function decodeCursor(text: string, field = "after"): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[1] === "string") {
      return { value: parsed[0], id: parsed[1] };
    }
  } catch {
    // Falls through to the error below.
  }
  throw invalidInput([
    { field, message: "is not a cursor from this list; pass an endCursor from a previous page" },
  ]);
}
