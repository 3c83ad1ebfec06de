/**
 * Builds the demo page into dist/: index.html, demo.js (src/main.ts with @otp-relay/client
 * bundled in) and demo.css, under fixed names that the API serves with `cache-control: no-cache`.
 * `--watch` rebuilds on changes (`pnpm dev`). Type-checking is tsc's job (`pnpm typecheck`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const watch = process.argv.includes('--watch');

/** Writes a file only when its content changed: `pnpm dev` restarts the API on every write. */
async function writeIfChanged(file: string, contents: Uint8Array): Promise<void> {
  const current = await readFile(file).catch(() => undefined);
  if (current?.equals(contents)) return;
  await writeFile(file, contents);
}

// Writes the bundle and index.html (as it is: it names /demo.js and /demo.css itself).
const writeDist: esbuild.Plugin = {
  name: 'write-dist',
  setup(build) {
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      await mkdir(dist, { recursive: true });
      const files = [
        ...(result.outputFiles ?? []).map((file) => ({ path: file.path, contents: file.contents })),
        { path: path.join(dist, 'index.html'), contents: await readFile(path.join(root, 'index.html')) },
      ];
      await Promise.all(files.map((file) => writeIfChanged(file.path, file.contents)));
      // `pnpm dev` (scripts/dev.ts) waits for this line before it starts the API.
      if (watch) console.log('demo page built: apps/demo/dist');
    });
  },
};

const options: esbuild.BuildOptions = {
  absWorkingDir: root,
  entryPoints: [
    { in: 'src/main.ts', out: 'demo' },
    { in: 'src/styles.css', out: 'demo' },
  ],
  outdir: dist,
  write: false,
  bundle: true,
  format: 'esm',
  // Browsers with top-level await and :has() (2023 on).
  target: ['chrome111', 'firefox121', 'safari16.4'],
  // The client's TypeScript source, as in the rest of the workspace: no need to build it first.
  conditions: ['@otp-relay/source'],
  legalComments: 'none',
  logLevel: watch ? 'info' : 'warning',
  plugins: [writeDist],
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
