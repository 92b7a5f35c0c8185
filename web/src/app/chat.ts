// The app's singletons: one Api, one store, and hooks to read them.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { Api } from '../lib/client';
import type { ChatEngine } from '../state/engine';
import { createChatStore, type ChatState } from '../state/store';

export const api = new Api();
export const store = createChatStore();

/** Reads a slice of the chat store; re-renders when it changes. */
export function useChat<T>(select: (s: ChatState) => T): T {
  return useStore(store, select);
}

export const EngineContext = createContext<ChatEngine | null>(null);

export function useEngine(): ChatEngine {
  const e = useContext(EngineContext);
  if (!e) throw new Error('useEngine outside a signed-in session');
  return e;
}
