export {
  BACKEND_ENV_VARIABLE,
  BackendUnavailableError,
  resolveBackendPreference,
  type SelectBackendOptions,
  selectBackend,
} from "./select";
export { BACKEND_NAMES, type BackendInfo, type BackendName, type BackendPreference } from "./types";
export { registerWasmKernels } from "./wasm/register";
