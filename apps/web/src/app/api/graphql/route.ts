import { type NextRequest, NextResponse } from "next/server";
import { apiUrl, TOKEN_COOKIE } from "@/lib/server/api";

/**
 * Forwards the browser's queries and mutations to the API with the cookie's token as a bearer
 * header, so the token never reaches client-side JavaScript.
 */
export async function POST(request: NextRequest) {
  const token = request.cookies.get(TOKEN_COOKIE)?.value;
  if (!token) {
    return NextResponse.json(
      { errors: [{ message: "Not signed in.", extensions: { code: "UNAUTHENTICATED" } }] },
      { status: 401 },
    );
  }

  let upstream: Response;
  try {
    upstream = await fetch(apiUrl(), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: request.headers.get("accept") ?? "application/graphql-response+json",
        authorization: `Bearer ${token}`,
      },
      body: await request.text(),
      cache: "no-store",
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return NextResponse.json(
      {
        errors: [
          {
            message: `The API at ${apiUrl()} is unreachable (${reason}). Check that it runs and that API_URL points at it.`,
            extensions: { code: "API_UNREACHABLE" },
          },
        ],
      },
      { status: 502 },
    );
  }

  return new NextResponse(upstream.body, {
    status: upstream.status,
    headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" },
  });
}
