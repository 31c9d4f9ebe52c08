/**
 * A run configuration's baseModel as a worker of the API reads it: a run's final model, or a
 * registered model's newest version or the version that an alias or number selects. Anything
 * else is a local path, which only the CLI can read.
 */
export type BaseModelReference =
  | { kind: "run"; runId: string }
  | { kind: "model"; name: string; selector?: string }
  | { kind: "path"; path: string };

const RUN_REFERENCE = /^run:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const MODEL_REFERENCE = /^model:([^@]+)(?:@(.+))?$/;

/** The forms a worker accepts, for error messages. */
export const BASE_MODEL_FORMS = '"run:<run id>" or "model:<name>[@<alias or version>]"';

export function parseBaseModelReference(reference: string): BaseModelReference {
  const run = RUN_REFERENCE.exec(reference);
  if (run) return { kind: "run", runId: run[1] as string };
  const model = MODEL_REFERENCE.exec(reference);
  if (model) {
    const name = model[1] as string;
    return model[2] === undefined
      ? { kind: "model", name }
      : { kind: "model", name, selector: model[2] };
  }
  return { kind: "path", path: reference };
}
