/**
 * Test helpers for the operator tools: captured output, waiting for a printed line (an event, not a
 * sleep), scripted prompt answers, and temporary directories removed after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Choice, Prompter, Validate } from '../../src/prompter.js';

export interface CapturedIo {
  out: string[];
  err: string[];
  print(line: string): void;
  error(line: string): void;
  /** Resolves with the first printed line matching `pattern` (already printed or still to come). */
  printed(pattern: RegExp): Promise<string>;
}

export function captureIo(): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  return {
    out,
    err,
    print(line) {
      out.push(line);
      for (const waiter of [...waiters]) {
        if (!waiter.pattern.test(line)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    },
    error(line) {
      err.push(line);
    },
    printed(pattern) {
      const line = out.find((printed) => pattern.test(printed));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

/** A fresh directory per call, removed after the test. */
const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'otp-relay-cli-'));
  made.push(dir);
  return dir;
}

type Answer = string | boolean;

/**
 * Answers prompts by their message: each `[pattern, answer]` is used once, in order of first match.
 * An unexpected question, or an answer its own validation refuses, fails the test.
 */
export function scriptedPrompter(script: [RegExp, Answer][]): Prompter & { asked: string[] } {
  const remaining = [...script];
  const asked: string[] = [];
  const next = (message: string): Answer => {
    asked.push(message);
    const index = remaining.findIndex(([pattern]) => pattern.test(message));
    const entry = remaining[index];
    if (!entry) throw new Error(`unexpected question: ${message}`);
    remaining.splice(index, 1);
    return entry[1];
  };
  const text = (question: { message: string; validate?: Validate; default?: string }) => {
    const answer = String(next(question.message));
    const value = answer === '' && question.default !== undefined ? question.default : answer;
    const verdict = question.validate?.(value) ?? true;
    if (verdict !== true) throw new Error(`answer "${value}" to "${question.message}" refused: ${verdict}`);
    return Promise.resolve(value);
  };
  return {
    asked,
    input: text,
    password: text,
    select<T extends string>(question: { message: string; choices: Choice<T>[] }): Promise<T> {
      const answer = String(next(question.message));
      const choice = question.choices.find((c) => c.value === answer);
      if (!choice || choice.disabled) throw new Error(`"${answer}" is not a choice of "${question.message}"`);
      return Promise.resolve(choice.value);
    },
    confirm(question) {
      return Promise.resolve(Boolean(next(question.message)));
    },
  };
}
