// Human texts for errors the Api and the socket report (ChatError codes:
// docs/protocol.md), shown by the screens.
import { ChatError } from '../lib/client';

/** A short, human text for an error. */
export function errorText(e: unknown): string {
  if (!(e instanceof ChatError)) return 'Something went wrong.';
  switch (e.code) {
    case 'network':
    case 'unavailable':
    case 'disconnected':
    case 'timeout':
      return 'The server cannot be reached right now. Try again.';
    case 'not_found':
      return e.message.includes('user') ? 'No such user.' : 'Not found.';
    case 'forbidden':
      return 'You are not allowed to do that.';
    case 'conflict':
      return e.message || 'That conflicts with the current state.';
    case 'rate_limited':
      return 'Too many attempts. Wait a moment and try again.';
    case 'unauthorized':
      return e.message || 'Please sign in again.';
    default:
      return e.message || 'Something went wrong.';
  }
}

/** A short, human text for a refused edit, delete, reaction or upload. */
export function actionErrorText(e: unknown): string {
  if (!(e instanceof ChatError)) return 'Something went wrong.';
  switch (e.code) {
    case 'forbidden':
      return 'You are not allowed to change this message.';
    case 'not_found':
      return 'This message is gone.';
    case 'too_large':
      return 'Too large.';
    case 'invalid':
      return e.message ? `Refused: ${e.message}.` : 'Refused by the server.';
    case 'rate_limited':
      return 'Too fast. Wait a moment and try again.';
    case 'timeout':
    case 'disconnected':
    case 'network':
    case 'unavailable':
      return 'Not connected. Try again.';
    default:
      return errorText(e);
  }
}
