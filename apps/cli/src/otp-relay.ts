/**
 * `otp-relay <command> [arguments]`: one command for the operator tools in the image (see
 * otp-relay-commands.ts). It runs the command's built entry point in this process, with the
 * arguments after the command, so exit codes and signals are the entry point's own.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isOtpRelayCommand, OTP_RELAY_COMMANDS, otpRelayUsage } from './otp-relay-commands.js';

// apps/cli/dist/otp-relay.js → the root the entry points' paths are relative to.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  console.log(otpRelayUsage());
} else if (!isOtpRelayCommand(command)) {
  console.error(`otp-relay: unknown command ${JSON.stringify(command)}\n\n${otpRelayUsage()}`);
  process.exitCode = 2;
} else {
  const entry = path.join(ROOT, OTP_RELAY_COMMANDS[command].entry);
  // The entry points read process.argv.slice(2): hand them their own arguments.
  process.argv = [process.argv[0] ?? process.execPath, entry, ...rest];
  await import(pathToFileURL(entry).href);
}
