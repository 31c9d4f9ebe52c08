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

/** Download attempts before downloadArtifact gives up; DEFAULT_RETRY waits 3.75-7.5 s in all between them. */
export const MAX_DOWNLOAD_ATTEMPTS = 5;

/**
 * Lets one log line through per interval and counts the lines it holds back, so a run whose
 * reports retry through a long outage logs once a minute instead of once per request.
 */
export class LogLimiter {
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private heldBack = 0;

  constructor(
    readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns how many lines were held back since the last one, or null when this one is held back too. */
  take(): number | null {
    const now = this.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.heldBack += 1;
      return null;
    }
    this.lastLoggedAt = now;
    const heldBack = this.heldBack;
    this.heldBack = 0;
    return heldBack;
  }
}

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
   * ApiErrors are not retried; an aborted signal ends the retries with its reason. Retries are
   * logged through `logLimiter` when given (one per run), else the first and every fifth.
   */
  async requestWithRetry<T>(
    operation: string,
    query: string,
    variables: Record<string, unknown>,
    options: {
      signal?: AbortSignal;
      timeoutMs?: number;
      policy?: RetryPolicy;
      logLimiter?: LogLimiter;
    } = {},
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

        const heldBack = options.logLimiter
          ? options.logLimiter.take()
          : attempt % 5 === 0
            ? 0
            : null;
        if (heldBack !== null) {
          this.log.warn(
            {
              err: error,
              operation,
              attempt: attempt + 1,
              retryInMs: delay,
              retriesNotLogged: heldBack,
            },
            "API request failed; retrying",
          );
        }
        await sleep(delay, undefined, { signal: options.signal });
      }
    }
  }

  /**
   * Downloads an artifact's file (GET /artifacts/<id>), retrying network errors and 5xx replies
   * with back-off up to `maxAttempts` tries; then it throws a TransportError naming the last failure.
   */
  async downloadArtifact(
    artifactId: string,
    signal?: AbortSignal,
    options: { maxAttempts?: number; policy?: RetryPolicy } = {},
  ): Promise<Uint8Array> {
    const url = `${this.origin}/artifacts/${artifactId}`;
    const maxAttempts = options.maxAttempts ?? MAX_DOWNLOAD_ATTEMPTS;
    const policy = options.policy ?? DEFAULT_RETRY;

    for (let attempt = 1; ; attempt++) {
      let failure: string;
      try {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${this.token}` },
          signal,
        });
        if (response.ok) return new Uint8Array(await response.arrayBuffer());
        if (response.status < 500) {
          throw new ApiError(
            `GET ${url} returned ${response.status}: ${await response.text()}`,
            "NOT_FOUND",
          );
        }
        failure = `HTTP ${response.status}: ${(await response.text().catch(() => "")).slice(0, 200)}`;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof ApiError) throw error;
        failure = (error as Error).message;
      }

      if (attempt >= maxAttempts) {
        throw new TransportError(
          `Downloading artifact ${artifactId} from ${url} failed after ${attempt} attempts (last: ${failure}). Check that the API is reachable from this worker.`,
        );
      }
      const delay = backoffDelay(attempt - 1, policy);
      this.log.warn(
        { artifactId, attempt, maxAttempts, retryInMs: delay, failure },
        "Artifact download failed; retrying",
      );
      await sleep(delay, undefined, { signal });
    }
  }
}
