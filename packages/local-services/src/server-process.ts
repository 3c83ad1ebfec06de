import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One server process (postgres, redis-server, pgbouncer) started by this module: spawned in a
 * process group of its own, so a Ctrl-C in the terminal reaches the caller, which stops its apps
 * first and the servers last; killed on the caller's exit whatever happened.
 */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** The server's last lines of output, for a message saying why something failed. */
  logs(): string;
  /** Stops it (`signal`, then SIGKILL after `graceMs`) and waits for its exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** For an exit by signal, where nothing asynchronous runs any more. */
  stopSync(): void;
  /** Called once if it exits before stop() was asked (a crash, a kill from outside). */
  onUnexpectedExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

export interface SpawnServerOptions {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (root starting Postgres or PgBouncer, which refuse root). */
  user?: { uid: number; gid: number };
  /** Ready when a line of its output matches, or when the probe answers true. */
  ready: RegExp | (() => Promise<boolean>);
  timeoutMs?: number;
  /** Sent on the caller's exit or by stopSync (postgres: SIGQUIT, an immediate shutdown). */
  lastResortSignal?: NodeJS.Signals;
  onLine?: (line: string) => void;
}

const running = new Set<{ child: ChildProcess; signal: NodeJS.Signals }>();
let exitHookInstalled = false;

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Every server this process started and has not stopped, stopped at once (bench's signal path). */
export function stopLocalServicesSync(): void {
  for (const entry of running) {
    if (isRunning(entry.child)) entry.child.kill(entry.signal);
  }
  running.clear();
}

export async function spawnServer(name: string, options: SpawnServerOptions): Promise<ServerProcess> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', stopLocalServicesSync);
  }
  const lines: string[] = [];
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  const entry = { child, signal: options.lastResortSignal ?? 'SIGKILL' };
  running.add(entry);
  let stopping = false;
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const ready = options.ready;
  let matched = false;
  // Always read the output: an unread pipe fills up and blocks the server.
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      options.onLine?.(line);
      lines.push(line);
      if (lines.length > 40) lines.shift();
      if (ready instanceof RegExp && ready.test(line)) matched = true;
    });
  }
  const logs = () => lines.map((line) => `  [${name}] ${line}`).join('\n');

  const server: ServerProcess = {
    name,
    pid: child.pid ?? -1,
    logs,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      stopping = true;
      running.delete(entry);
      if (!isRunning(child)) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      const escalate = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(escalate);
    },
    stopSync() {
      stopping = true;
      running.delete(entry);
      if (isRunning(child)) child.kill(entry.signal);
    },
    onUnexpectedExit(listener) {
      child.once('exit', (code, signal) => {
        if (!stopping) listener(code, signal);
      });
    },
  };

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (matched || (typeof ready === 'function' && (await ready()))) return server;
    if (spawnError || !isRunning(child) || Date.now() > deadline) {
      const reason =
        spawnError?.message ?? (isRunning(child) ? 'it did not become ready in time' : 'it exited');
      await server.stop('SIGKILL');
      throw new Error(`${name} did not start (${reason}):\n${logs()}`);
    }
    await sleep(50);
  }
}
