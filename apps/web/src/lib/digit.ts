/**
 * Turns a drawing into the 784 values MNIST models expect, the way the dataset was made: the
 * digit's bounding box is scaled so its longer side is 20 px, then centred by its centre of mass
 * in a 28x28 frame. Input is the canvas's pixels (white ink on black); output is row-major in [0, 1].
 */
export function toMnistPixels(source: HTMLCanvasElement): number[] | null {
  const context = source.getContext("2d");
  if (!context) return null;
  const { width, height } = source;
  const image = context.getImageData(0, 0, width, height).data;

  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((image[(y * width + x) * 4] ?? 0) > 20) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  if (bottom < 0) return null;

  const boxWidth = right - left + 1;
  const boxHeight = bottom - top + 1;
  const scale = 20 / Math.max(boxWidth, boxHeight);
  const scaledWidth = Math.max(1, Math.round(boxWidth * scale));
  const scaledHeight = Math.max(1, Math.round(boxHeight * scale));

  const small = document.createElement("canvas");
  small.width = scaledWidth;
  small.height = scaledHeight;
  const smallContext = small.getContext("2d");
  if (!smallContext) return null;
  smallContext.imageSmoothingEnabled = true;
  smallContext.imageSmoothingQuality = "high";
  smallContext.drawImage(source, left, top, boxWidth, boxHeight, 0, 0, scaledWidth, scaledHeight);
  const digit = smallContext.getImageData(0, 0, scaledWidth, scaledHeight).data;

  let mass = 0;
  let sumX = 0;
  let sumY = 0;
  for (let y = 0; y < scaledHeight; y++) {
    for (let x = 0; x < scaledWidth; x++) {
      const value = (digit[(y * scaledWidth + x) * 4] ?? 0) / 255;
      mass += value;
      sumX += value * x;
      sumY += value * y;
    }
  }
  const offsetX = Math.round(14 - (mass > 0 ? sumX / mass : scaledWidth / 2));
  const offsetY = Math.round(14 - (mass > 0 ? sumY / mass : scaledHeight / 2));

  const pixels = new Array<number>(28 * 28).fill(0);
  for (let y = 0; y < scaledHeight; y++) {
    for (let x = 0; x < scaledWidth; x++) {
      const targetX = x + offsetX;
      const targetY = y + offsetY;
      if (targetX < 0 || targetX >= 28 || targetY < 0 || targetY >= 28) continue;
      pixels[targetY * 28 + targetX] = (digit[(y * scaledWidth + x) * 4] ?? 0) / 255;
    }
  }
  return pixels;
}
