import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { Logger } from "@convnet/shared";
import type { PrismaClient } from "@convnet/shared/db";
import type { ExtraRoute } from "../server/http";
import { resolveArtifactPath } from "./names";

const ROUTE = /^\/artifacts\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The GET path that streams an artifact; Artifact.url returns it. */
export function artifactUrlPath(artifactId: string): string {
  return `/artifacts/${artifactId}`;
}

function contentType(file: string): string {
  if (file.endsWith(".json")) return "application/json";
  if (file.endsWith(".png")) return "image/png";
  return "application/octet-stream";
}

function sendError(
  response: import("node:http").ServerResponse,
  status: number,
  message: string,
): void {
  const body = JSON.stringify({ error: message });
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(body);
}

/**
 * GET /artifacts/<id>: streams the artifact's file to any caller with a valid token. The stored
 * sha256 goes out in the `x-content-sha256` header so a client can check what it received.
 */
export function artifactRoute(prisma: PrismaClient, artifactDir: string, log: Logger): ExtraRoute {
  return async (request, response, viewer) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const match = ROUTE.exec(url.pathname);
    if (!match?.[1] || (request.method !== "GET" && request.method !== "HEAD")) return false;
    if (!viewer) {
      sendError(
        response,
        401,
        "Send an API token: Authorization: Bearer <token>, or the convnet_token cookie.",
      );
      return true;
    }

    const artifact = await prisma.artifact.findUnique({ where: { id: match[1] } });
    if (!artifact) {
      sendError(response, 404, `Artifact ${match[1]} not found.`);
      return true;
    }
    const file = resolveArtifactPath(artifactDir, artifact.runId, artifact.path);
    const info = await stat(file).catch(() => null);
    if (!info) {
      log.error(
        { artifactId: artifact.id, file },
        "An artifact's file is missing from ARTIFACT_DIR",
      );
      sendError(
        response,
        404,
        `The file of artifact ${artifact.id} is missing on the server; its checkpoint may have been pruned.`,
      );
      return true;
    }

    response.writeHead(200, {
      "content-type": contentType(file),
      "content-length": info.size,
      "x-content-sha256": artifact.sha256,
      "cache-control": "private, max-age=0",
    });
    if (request.method === "HEAD") {
      response.end();
      return true;
    }
    await pipeline(createReadStream(file), response);
    return true;
  };
}
