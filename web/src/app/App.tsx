import { useCallback, useEffect, useState } from 'react';
import { backoffDelay, ChatError, type User } from '../lib/client';
import { ChatEngine } from '../state/engine';
import { AuthScreen } from './AuthScreen';
import { api, EngineContext, store, useChat } from './chat';
import { ConversationView, EmptyConversation } from './ConversationView';
import { navigate, useRouteConversation } from './router';
import { Sidebar } from './Sidebar';

type Phase = { kind: 'restoring' } | { kind: 'signedOut'; notice?: string } | { kind: 'signedIn'; user: User };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'restoring' });

  const [offline, setOffline] = useState(false);

  // A page load restores the session from the HttpOnly refresh cookie. Only a refusal
  // means "signed out"; while the server cannot be reached, keep trying.
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = (n: number) => {
      api.refresh().then(
        (s) => live && setPhase({ kind: 'signedIn', user: s.user }),
        (e: unknown) => {
          if (!live) return;
          if (e instanceof ChatError && e.retryable) {
            setOffline(true);
            timer = setTimeout(() => attempt(n + 1), backoffDelay(n, 1_000, 15_000));
          } else {
            setPhase({ kind: 'signedOut' });
          }
        },
      );
    };
    attempt(0);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, []);

  const signedIn = useCallback((user: User) => setPhase({ kind: 'signedIn', user }), []);
  const signedOut = useCallback((notice?: string) => setPhase({ kind: 'signedOut', notice }), []);

  if (phase.kind === 'restoring') {
    return (
      <div className="splash" role="status" aria-live="polite">
        <div className="spinner" aria-hidden="true" />
        <span>{offline ? 'The server cannot be reached. Retrying…' : 'Loading…'}</span>
      </div>
    );
  }
  if (phase.kind === 'signedOut') return <AuthScreen onSignedIn={signedIn} notice={phase.notice} />;
  return <Session key={phase.user.id} user={phase.user} onSignedOut={signedOut} />;
}

/** Everything of a signed-in user: one engine (socket) for the session's lifetime. */
function Session({ user, onSignedOut }: { user: User; onSignedOut: (notice?: string) => void }) {
  const [engine, setEngine] = useState<ChatEngine | null>(null);

  useEffect(() => {
    store.getState().reset(user);
    const e = new ChatEngine({
      api,
      store,
      onSignedOut: () => onSignedOut('Your session ended. Please sign in again.'),
    });
    setEngine(e);
    void e.start();
    // A REST call whose refresh was refused also ends the session.
    const off = api.onSession((s) => {
      if (!s) onSignedOut('Your session ended. Please sign in again.');
    });
    return () => {
      off();
      e.stop();
      store.getState().reset(null);
    };
  }, [user, onSignedOut]);

  if (!engine) return null;
  return (
    <EngineContext.Provider value={engine}>
      <Shell
        onLogout={async () => {
          await engine.logout();
          navigate('/', true);
          onSignedOut();
        }}
      />
    </EngineContext.Provider>
  );
}

function Shell({ onLogout }: { onLogout: () => void }) {
  const routeId = useRouteConversation();
  const exists = useChat((s) => (routeId ? !!s.conversations[routeId] : false));
  const listLoaded = useChat((s) => s.listLoaded);
  const unread = useChat((s) => Object.values(s.conversations).reduce((n, c) => n + c.unread, 0));
  const activeId = routeId && (exists || !listLoaded) ? routeId : null;

  // A conversation that went away (left, removed) sends the user back to the list.
  useEffect(() => {
    if (routeId && listLoaded && !exists) navigate('/', true);
  }, [routeId, listLoaded, exists]);

  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Actor Chat` : 'Actor Chat';
  }, [unread]);

  return (
    <div className={`shell${activeId ? ' has-active' : ''}`}>
      <Sidebar activeId={activeId} onLogout={onLogout} />
      <main className="main" id="main">
        {activeId ? <ConversationView key={activeId} id={activeId} /> : <EmptyConversation />}
      </main>
    </div>
  );
}
