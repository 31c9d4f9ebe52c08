import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@convnet/shared";

/** A GraphQL error the API returned on purpose (CONFLICT, NOT_FOUND, ...); retrying will not help. */
export class ApiError extends Error {
  override name = "ApiError";

  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The API could not be reached or failed on its side (network, 5xx); the request may be retried. */
export class TransportError extends Error {
  override name = "TransportError";
}

export interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Stops retrying after this long; Infinity retries until the signal aborts. */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxElapsedMs: Number.POSITIVE_INFINITY,
};

/** Delay before retry number `attempt` (0-based): exponential with full jitter. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A small GraphQL-over-HTTP client for the worker; only the API's public endpoint is used. */
export class ApiClient {
  readonly origin: string;

  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly log: Logger,
  ) {
    this.origin = new URL(url).origin;
  }

  /** Sends one request; throws ApiError for GraphQL errors and TransportError for the rest. */
  async request<T>(
    query: string,
    variables: Record<string, unknown>,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 60_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ query, variables }),
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new TransportError(`Request to ${this.url} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }

    const text = await response.text().catch(() => "");
    let body: GraphQLResponse<T> | undefined;
    try {
      body = JSON.parse(text) as GraphQLResponse<T>;
    } catch {
      body = undefined;
    }
    const first = body?.errors?.[0];
    if (first) {
      const code = first.extensions?.code ?? "UNKNOWN";
      if (response.status >= 500 || code === "INTERNAL_SERVER_ERROR") {
        throw new TransportError(`The API failed (${response.status} ${code}): ${first.message}`);
      }
      throw new ApiError(first.message, code);
    }
    if (!response.ok || !body?.data) {
      throw new TransportError(`The API returned HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    return body.data;
  }

  /**
   * Sends a request until it gets through, backing off exponentially with jitter between tries.
   * ApiErrors are not retried; an aborted signal ends the retries with its reason.
   */
  async requestWithRetry<T>(
    operation: string,
    query: string,
    variables: Record<string, unknown>,
    options: { signal?: AbortSignal; timeoutMs?: number; policy?: RetryPolicy } = {},
  ): Promise<T> {
    const policy = options.policy ?? DEFAULT_RETRY;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request<T>(query, variables, options);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        const delay = backoffDelay(attempt, policy);
        if (Date.now() - started + delay > policy.maxElapsedMs) throw error;
        // Log the first failure and then every fifth, so a long outage does not flood the log.
        if (attempt % 5 === 0) {
          this.log.warn(
            { err: error, operation, attempt: attempt + 1, retryInMs: delay },
            "API request failed; retrying",
          );
        }
        await sleep(delay, undefined, { signal: options.signal });
      }
    }
  }

  /** Downloads an artifact's file (GET /artifacts/<id>) with retries. */
  async downloadArtifact(artifactId: string, signal?: AbortSignal): Promise<Uint8Array> {
    const url = `${this.origin}/artifacts/${artifactId}`;
    for (let attempt = 0; ; attempt++) {
      let response: Response | undefined;
      try {
        response = await fetch(url, { headers: { authorization: `Bearer ${this.token}` }, signal });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        this.log.warn(
          { err: error, artifactId, attempt: attempt + 1 },
          "Artifact download failed; retrying",
        );
      }
      if (response?.ok) return new Uint8Array(await response.arrayBuffer());
      if (response && response.status < 500) {
        throw new ApiError(
          `GET ${url} returned ${response.status}: ${await response.text()}`,
          "NOT_FOUND",
        );
      }
      await sleep(backoffDelay(attempt, DEFAULT_RETRY), undefined, { signal });
    }
  }
}
