/**
 * Opens a URL in the desktop's browser when there is one, with the platform's own opener (no
 * dependency). Best effort: the URL is always printed as well.
 */
import { spawn } from 'node:child_process';

type Env = Record<string, string | undefined>;

/** The opener command for this platform, or `undefined` without a desktop (SSH, containers, CI). */
export function browserOpener(
  url: string,
  platform: NodeJS.Platform = process.platform,
  env: Env = process.env,
): [command: string, args: string[]] | undefined {
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]];
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return ['xdg-open', [url]];
  return undefined;
}

/** `true` when an opener was started (not that a browser appeared). */
export function openInBrowser(url: string): boolean {
  const opener = browserOpener(url);
  if (!opener) return false;
  const child = spawn(opener[0], opener[1], { stdio: 'ignore', detached: true });
  // A missing xdg-open is no reason to stop: the URL is on screen.
  child.on('error', () => {});
  child.unref();
  return true;
}
