import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `command` in the first of `dirs` (PATH's, then the given ones) that has it. */
export function findExecutable(
  command: string,
  extraDirs: readonly string[] = [],
  pathVariable = process.env.PATH ?? '',
  executable: (file: string) => boolean = isExecutable,
): string | undefined {
  const dirs = [...pathVariable.split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of new Set(dirs)) {
    const candidate = path.join(dir, command);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}
