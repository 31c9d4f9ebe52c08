import { PNG } from "pngjs";
import { invalidInput } from "../server/errors";

export const IMAGE_SIDE = 28;
export const PIXEL_COUNT = IMAGE_SIDE * IMAGE_SIDE;
/** A decoded PNG larger than this is refused before it is resized. */
const MAX_PNG_SIDE = 2_048;

/** Checks client-sent pixels: 784 row-major values in [0, 1], ink = 1 as in MNIST. */
export function checkPixels(pixels: number[]): Float32Array {
  if (pixels.length !== PIXEL_COUNT) {
    throw invalidInput([
      {
        field: "pixels",
        message: `has ${pixels.length} values; send ${PIXEL_COUNT} (28x28, row-major) values in [0, 1]`,
      },
    ]);
  }
  const bad = pixels.findIndex((value) => !(Number.isFinite(value) && value >= 0 && value <= 1));
  if (bad >= 0) {
    throw invalidInput([
      {
        field: `pixels[${bad}]`,
        message: `${pixels[bad]} is outside [0, 1]; divide 0-255 values by 255`,
      },
    ]);
  }
  return Float32Array.from(pixels);
}

/**
 * Turns a base64 PNG of any size into MNIST's layout: grey levels composited over black, resized
 * to 28x28 by averaging the source pixels under each target pixel, and inverted when the border
 * is light (a dark digit on paper), so the digit is bright on a dark background.
 */
export function pixelsFromPng(base64: string): Float32Array {
  let image: PNG;
  try {
    image = PNG.sync.read(Buffer.from(base64.replace(/^data:image\/png;base64,/, ""), "base64"));
  } catch (error) {
    throw invalidInput([
      { field: "png", message: `is not a base64 PNG (${(error as Error).message})` },
    ]);
  }
  const { width, height, data } = image;
  if (width > MAX_PNG_SIDE || height > MAX_PNG_SIDE) {
    throw invalidInput([
      {
        field: "png",
        message: `is ${width}x${height}; send at most ${MAX_PNG_SIDE}x${MAX_PNG_SIDE}`,
      },
    ]);
  }

  const grey = new Float32Array(width * height);
  for (let index = 0; index < grey.length; index += 1) {
    const offset = index * 4;
    const luminance =
      (0.299 * (data[offset] ?? 0) +
        0.587 * (data[offset + 1] ?? 0) +
        0.114 * (data[offset + 2] ?? 0)) /
      255;
    grey[index] = luminance * ((data[offset + 3] ?? 255) / 255);
  }

  const pixels = new Float32Array(PIXEL_COUNT);
  for (let y = 0; y < IMAGE_SIDE; y += 1) {
    const top = Math.floor((y * height) / IMAGE_SIDE);
    const bottom = Math.max(top + 1, Math.floor(((y + 1) * height) / IMAGE_SIDE));
    for (let x = 0; x < IMAGE_SIDE; x += 1) {
      const left = Math.floor((x * width) / IMAGE_SIDE);
      const right = Math.max(left + 1, Math.floor(((x + 1) * width) / IMAGE_SIDE));
      let sum = 0;
      for (let sy = top; sy < bottom; sy += 1) {
        for (let sx = left; sx < right; sx += 1) sum += grey[sy * width + sx] ?? 0;
      }
      pixels[y * IMAGE_SIDE + x] = sum / ((bottom - top) * (right - left));
    }
  }

  let border = 0;
  for (let i = 0; i < IMAGE_SIDE; i += 1) {
    border += (pixels[i] ?? 0) + (pixels[PIXEL_COUNT - 1 - i] ?? 0);
    border += (pixels[i * IMAGE_SIDE] ?? 0) + (pixels[i * IMAGE_SIDE + IMAGE_SIDE - 1] ?? 0);
  }
  if (border / (4 * IMAGE_SIDE) > 0.5) {
    for (let index = 0; index < PIXEL_COUNT; index += 1) pixels[index] = 1 - (pixels[index] ?? 0);
  }
  return pixels;
}
