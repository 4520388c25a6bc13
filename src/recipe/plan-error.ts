/** The recipe or an app cannot be turned into steps; validation normally catches these first. */
export class PlanError extends Error {
  constructor(
    message: string,
    /** JSON pointer into the recipe of what the error is about, so it is shown at its line. */
    readonly pointer?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A local input file could not be read to compute its checksum. */
export class PlanInputError extends PlanError {
  constructor(readonly input: string, readonly path: string, cause: Error) {
    super(`cannot read ${input} at ${path} to compute its sha256 (${cause.message}); fix the path or add the file`);
  }
}
