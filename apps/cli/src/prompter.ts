/**
 * The questions setup asks, behind an interface: the entry point hands in `@inquirer/prompts`, tests
 * hand in scripted answers.
 */
import { confirm, input, password, select } from '@inquirer/prompts';

/** `true` when the answer is fine, else what is wrong with it. */
export type Validate = (value: string) => true | string;

export interface Choice<T extends string> {
  name: string;
  value: T;
  description?: string;
  /** Shown but not selectable; a string says why. */
  disabled?: boolean | string;
}

export interface Prompter {
  input(question: { message: string; default?: string; validate?: Validate }): Promise<string>;
  password(question: { message: string; validate?: Validate }): Promise<string>;
  select<T extends string>(question: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  confirm(question: { message: string; default?: boolean }): Promise<boolean>;
}

export const inquirerPrompter: Prompter = {
  input: (question) => input(question),
  password: (question) => password({ ...question, mask: '*' }),
  select: (question) => select(question),
  confirm: (question) => confirm(question),
};

/** Ctrl-C in a prompt: inquirer rejects with an ExitPromptError. */
export function isPromptCancelled(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExitPromptError';
}
