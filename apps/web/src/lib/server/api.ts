import { Client, fetchExchange } from "@urql/core";
import { cookies } from "next/headers";
import { VIEWER_QUERY } from "../queries";
import type { Viewer } from "../types";

/** The httpOnly cookie holding the API token; the API reads the same name on WebSocket upgrades. */
export const TOKEN_COOKIE = "convnet_token";

const DEFAULT_API_URL = "http://127.0.0.1:4000/graphql";

/** Returns the API's GraphQL endpoint as seen from this server (API_URL), read per request so one build serves any stack. */
export function apiUrl(): string {
  return process.env.API_URL || DEFAULT_API_URL;
}

/** Returns the API's origin, for the non-GraphQL routes it serves (artifacts, test images). */
export function apiOrigin(): string {
  return new URL(apiUrl()).origin;
}

/**
 * Returns the WebSocket URL the browser opens for subscriptions. API_WS_URL overrides it; otherwise it
 * is API_URL with a ws scheme, because the API serves graphql-ws on the same path.
 */
export function apiWebSocketUrl(): string {
  const configured = process.env.API_WS_URL || process.env.NEXT_PUBLIC_API_WS_URL;
  if (configured) return configured;
  const url = new URL(apiUrl());
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export async function readToken(): Promise<string | undefined> {
  const store = await cookies();
  return store.get(TOKEN_COOKIE)?.value || undefined;
}

export type ViewerResult =
  | { ok: true; viewer: Viewer }
  | { ok: false; reason: "unauthenticated" | "unreachable"; message: string };

/** Asks the API who a token belongs to; an unknown or revoked token is "unauthenticated". */
export async function fetchViewer(token: string): Promise<ViewerResult> {
  const client = new Client({
    url: apiUrl(),
    exchanges: [fetchExchange],
    preferGetMethod: false,
    fetchOptions: { headers: { authorization: `Bearer ${token}` }, cache: "no-store" },
  });
  const result = await client.query<{ viewer: Viewer }>(VIEWER_QUERY, {}).toPromise();

  if (result.data?.viewer) return { ok: true, viewer: result.data.viewer };

  const graphQLError = result.error?.graphQLErrors[0];
  const status = result.error?.response?.status;
  if (graphQLError?.extensions?.code === "UNAUTHENTICATED" || status === 401 || status === 403) {
    return { ok: false, reason: "unauthenticated", message: "This token is unknown or revoked." };
  }
  return {
    ok: false,
    reason: "unreachable",
    message: `The API at ${apiUrl()} returned no viewer for the token: ${result.error?.message ?? "no data"}. Check that it runs and that API_URL points at it.`,
  };
}
