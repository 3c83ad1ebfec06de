/** A catalogue or template that cannot be used, named by its file: the worker refuses to start. */
export class TemplateError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'TemplateError';
  }
}
