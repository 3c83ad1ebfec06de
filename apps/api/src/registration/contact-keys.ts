// The rule lives in @otp-relay/core (the operators' lookup needs it too); re-exported for the API's imports.
export { mailboxKey } from '@otp-relay/core';
