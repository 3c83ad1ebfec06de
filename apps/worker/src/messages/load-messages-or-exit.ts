import type { MessageRenderer } from './message-renderer.js';
import { TemplateError } from './template-error.js';

/** For entry points: a template problem is a message to the operator (naming the file), not a stack trace. */
export async function loadMessagesOrExit(loading: Promise<MessageRenderer>): Promise<MessageRenderer> {
  try {
    return await loading;
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    console.error(`Invalid message templates:\n  - ${error.message}`);
    process.exit(2);
  }
}
