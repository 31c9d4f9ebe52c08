import { createClient as createWebSocketClient } from "graphql-ws";
import { cacheExchange, createClient, fetchExchange, subscriptionExchange } from "urql";

export type ConnectionState = "connecting" | "connected" | "closed";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Browsers send the session cookie only to the host name the dashboard was opened with, so a
 * loopback API URL takes the page's own loopback name (localhost vs 127.0.0.1) to keep its cookie.
 */
export function resolveWebSocketUrl(configured: string, pageHost: string): string {
  const url = new URL(configured);
  if (LOOPBACK_HOSTS.has(url.hostname) && LOOPBACK_HOSTS.has(pageHost)) url.hostname = pageHost;
  return url.toString();
}

/**
 * Creates the urql client. Queries and mutations go to this app's /api/graphql route, which adds
 * the bearer token. Subscriptions open a graphql-ws socket straight to the API, which reads the cookie.
 */
export function createDashboardClient(
  webSocketUrl: string,
  onConnectionChange: (state: ConnectionState) => void,
) {
  const socket = createWebSocketClient({
    url: resolveWebSocketUrl(webSocketUrl, window.location.hostname),
    lazy: false,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    on: {
      connecting: () => onConnectionChange("connecting"),
      connected: () => onConnectionChange("connected"),
      closed: () => onConnectionChange("closed"),
    },
  });

  const client = createClient({
    url: "/api/graphql",
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = socket.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return { client, socket };
}
