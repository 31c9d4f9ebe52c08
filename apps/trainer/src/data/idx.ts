import { gunzipSync } from "node:zlib";

/** IDX type code 0x08: unsigned bytes, the only element type MNIST-style files use. */
const IDX_UNSIGNED_BYTE = 0x08;

export interface IdxArray {
  /** Dimension sizes from the header, for example [60000, 28, 28] for training images. */
  shape: number[];
  data: Uint8Array;
}

/** Raised for a data file that is missing, truncated, corrupt or of the wrong kind. */
export class DatasetFileError extends Error {
  constructor(
    readonly file: string,
    /** The problem found in the file. */
    readonly problem: string,
    /** The step that fixes the problem. */
    readonly fix: string,
  ) {
    super(`${problem} ${fix}`);
    this.name = "DatasetFileError";
  }
}

/** Returns the bytes as they are, or gunzipped when they start with the gzip magic number. */
export function decompressIfGzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new DatasetFileError(
      file,
      `${file} is not a valid gzip file (${(error as Error).message}); it is probably truncated or corrupt.`,
      "Delete it and download it again.",
    );
  }
}

/**
 * Parses an IDX file: a 4-byte magic number (two zero bytes, the element type, the number of
 * dimensions), one big-endian 32-bit size per dimension, then the elements in row-major order.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) {
    throw new DatasetFileError(
      file,
      `${file} has ${bytes.length} bytes, too few for an IDX header; it is truncated.`,
      "Delete it and download it again.",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elementType = bytes[2];
  const rank = bytes[3] ?? 0;
  if (
    bytes[0] !== 0 ||
    bytes[1] !== 0 ||
    elementType !== IDX_UNSIGNED_BYTE ||
    rank < 1 ||
    rank > 4
  ) {
    const magic = view.getUint32(0).toString(16).padStart(8, "0");
    throw new DatasetFileError(
      file,
      `${file} is not an IDX file of unsigned bytes: its magic number is 0x${magic}, expected 0x00000801 to 0x00000804.`,
      "Check that the path points at the MNIST-format file.",
    );
  }

  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DatasetFileError(
      file,
      `${file} ends inside its IDX header; it is truncated.`,
      "Delete it and download it again.",
    );
  }
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i));

  const expectedBytes = headerBytes + shape.reduce((product, size) => product * size, 1);
  if (bytes.length !== expectedBytes) {
    const problem = bytes.length < expectedBytes ? "truncated" : "longer than its header declares";
    throw new DatasetFileError(
      file,
      `${file} has ${bytes.length} bytes but its header [${shape.join(", ")}] needs ${expectedBytes}; the file is ${problem}.`,
      "Delete it and download it again.",
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}
