import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface DownloadProgress {
  file: string;
  receivedBytes: number;
  /** null when the server sends no Content-Length. */
  totalBytes: number | null;
}

/**
 * Downloads the file from the first mirror that responds into `target`, through a temporary file renamed into
 * place at the end, so an interrupted download never leaves a truncated file under the real name.
 */
// NOTE: tests run this against a mirror on 127.0.0.1 only, so the public mirrors' URLs are
// untested here. A failure surfaces as an error that names each URL tried.
export async function downloadFile(
  fileName: string,
  mirrors: string[],
  target: string,
  onProgress?: (progress: DownloadProgress) => void,
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const failures: string[] = [];

  for (const mirror of mirrors) {
    const url = new URL(fileName, mirror).toString();
    const temporary = `${target}.${process.pid}.download`;
    try {
      const response = await fetch(url);
      if (!response.ok || response.body === null) {
        failures.push(`${url}: HTTP ${response.status}`);
        continue;
      }
      const length = Number(response.headers.get("content-length"));
      const totalBytes = Number.isFinite(length) && length > 0 ? length : null;
      let receivedBytes = 0;

      const body = Readable.fromWeb(
        response.body as import("node:stream/web").ReadableStream<Uint8Array>,
      );
      body.on("data", (chunk: Buffer) => {
        receivedBytes += chunk.length;
        onProgress?.({ file: fileName, receivedBytes, totalBytes });
      });
      await pipeline(body, createWriteStream(temporary));
      await rename(temporary, target);
      return;
    } catch (error) {
      failures.push(`${url}: ${(error as Error).message}`);
      await rm(temporary, { force: true });
    }
  }

  throw new Error(
    `Download of ${fileName} failed from every mirror (${failures.join("; ")}). Download it by hand into ${dirname(target)} or set the data directory to a local copy.`,
  );
}
