import { type NextRequest, NextResponse } from "next/server";
import { apiOrigin, TOKEN_COOKIE } from "@/lib/server/api";

/** API routes outside GraphQL that the dashboard may stream to the browser. */
const ALLOWED_PREFIXES = ["mnist/", "artifacts/"];

/**
 * Streams a file the API serves (test-set digits, checkpoints) with the cookie's token, so
 * an <img> or a download link works whatever host name the browser used for the dashboard.
 */
export async function GET(request: NextRequest, context: { params: Promise<{ path: string[] }> }) {
  const { path } = await context.params;
  const relative = path.map(encodeURIComponent).join("/");
  if (!ALLOWED_PREFIXES.some((prefix) => relative.startsWith(prefix))) {
    return NextResponse.json({ error: `No API file route at /${relative}.` }, { status: 404 });
  }

  const token = request.cookies.get(TOKEN_COOKIE)?.value;
  if (!token) return NextResponse.json({ error: "Not signed in." }, { status: 401 });

  const upstream = await fetch(`${apiOrigin()}/${relative}`, {
    headers: { authorization: `Bearer ${token}` },
    cache: "no-store",
  }).catch(() => null);
  if (!upstream) return NextResponse.json({ error: "The API is unreachable." }, { status: 502 });

  const headers = new Headers();
  for (const name of ["content-type", "content-length", "content-disposition", "cache-control"]) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new NextResponse(upstream.body, { status: upstream.status, headers });
}
