/** Compute backends in order of preference: native TensorFlow with CUDA, native TensorFlow, wasm, pure JS. */
export const BACKEND_NAMES = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendPreference = BackendName | "auto";

export interface BackendInfo {
  name: BackendName;
  /** Version of @tensorflow/tfjs-core, which every backend runs on. */
  tfjsVersion: string;
  /** Versions of each loaded tfjs package, keyed by package name without the scope. */
  versions: Record<string, string>;
  /** Threads the backend computes with, where the backend reports it. */
  threads?: number;
}
