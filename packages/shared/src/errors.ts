/**
 * A problem the person starting the product can fix. `fix` says how, naming the setting or
 * command, so the top level can print both without a stack trace.
 */
export class SetupError extends Error {
  override name = "SetupError";

  constructor(
    message: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
