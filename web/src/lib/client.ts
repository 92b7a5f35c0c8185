// Typed client of the chatd wire protocol, version 1 (docs/protocol.md):
// REST helpers (Api) and the live WebSocket (ChatSocket), plus the seq rules
// for resuming. Nothing here knows about React or the store; the app and the
// tests both use this module.
//
//   protocol.ts  wire types, ChatError, ids, backoff
//   api.ts       Api: register, login, refresh (HttpOnly cookie), logout, conversations, messages, members, read
//   seq.ts       trackSeq / applySynced: the resume point and gap detection
//   socket.ts    ChatSocket: auth, ready, send/ack, sync, history, read, typing, events, reconnect, renewal
//                (its parts: socketTypes.ts, requests.ts, outbox.ts, pacing.ts)
export * from './protocol';
export * from './api';
export * from './seq';
export * from './socket';
