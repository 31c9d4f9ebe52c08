import { type NextRequest, NextResponse } from "next/server";
import { fetchViewer, TOKEN_COOKIE } from "@/lib/server/api";

const THIRTY_DAYS_SECONDS = 30 * 24 * 60 * 60;

/** Signs in: checks the token with the API's viewer query, then keeps it in an httpOnly cookie. */
export async function POST(request: NextRequest) {
  const body: unknown = await request.json().catch(() => null);
  const token =
    body && typeof body === "object" && "token" in body && typeof body.token === "string"
      ? body.token.trim()
      : "";
  if (!token) {
    return NextResponse.json({ error: "Paste an API token to sign in." }, { status: 400 });
  }

  const result = await fetchViewer(token);
  if (!result.ok) {
    const status = result.reason === "unauthenticated" ? 401 : 502;
    return NextResponse.json({ error: result.message }, { status });
  }

  const response = NextResponse.json({ viewer: result.viewer });
  response.cookies.set(TOKEN_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: request.nextUrl.protocol === "https:",
    path: "/",
    maxAge: THIRTY_DAYS_SECONDS,
  });
  return response;
}

/** Signs out by clearing the cookie; the token itself stays valid until revoked with the API's CLI. */
export async function DELETE() {
  const response = NextResponse.json({ signedOut: true });
  response.cookies.delete(TOKEN_COOKIE);
  return response;
}
