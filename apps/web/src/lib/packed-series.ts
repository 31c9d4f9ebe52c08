import type { MetricPoint, MetricSeries, PackedMetricSeries, PackedSeries } from "./types";

/**
 * Decodes metricSeries' Float64Base64 text: base64 of little-endian float64 bytes. A DataView
 * reads them in that byte order whatever the browser's, and needs no 8-byte-aligned buffer.
 */
export function decodeFloat64Base64(text: string): number[] {
  const binary = atob(text);
  if (binary.length % 8 !== 0) {
    throw new Error(`Float64Base64 text decodes to ${binary.length} bytes, not a multiple of 8.`);
  }
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  const view = new DataView(bytes.buffer);
  return Array.from({ length: bytes.length / 8 }, (_, index) => view.getFloat64(8 * index, true));
}

function unpackPoints(packed: PackedSeries): MetricPoint[] {
  const values = decodeFloat64Base64(packed.values);
  if (values.length !== packed.length || packed.steps.length !== packed.length) {
    throw new Error(
      `A packed series declares ${packed.length} points but has ${packed.steps.length} steps and ${values.length} values.`,
    );
  }
  return values.map((value, index) => ({
    step: packed.steps[index] ?? 0,
    epoch: packed.epochs[index] ?? 0,
    phase: packed.phases[index] ?? "train",
    value,
    wallTime: packed.wallTimes[index] ?? 0,
  }));
}

/** Turns metricSeries lines in the packed form into the point lists the charts and live merge use. */
export function unpackSeries(series: readonly PackedMetricSeries[]): MetricSeries[] {
  return series.map(({ packed, ...line }) => ({ ...line, points: unpackPoints(packed) }));
}
