/**
 * Where the operator tools look for things. The repo root comes from this file's own location, not
 * the working directory, so `pnpm run setup` from any folder writes the `.env` that `pnpm dev` loads.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/cli/src (or apps/cli/dist once built) → the repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The `.env` that `pnpm dev` loads. */
export const DEFAULT_ENV_PATH = path.join(REPO_ROOT, '.env');

/** A path as the operator typed it or relative to where they are, for messages. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
