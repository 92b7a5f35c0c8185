import { useId, useState, type FormEvent } from 'react';
import type { User } from '../lib/client';
import { errorText } from '../state/errorText';
import { api } from './chat';

type Mode = 'login' | 'register';

export function AuthScreen({ onSignedIn, notice }: { onSignedIn: (u: User) => void; notice?: string }) {
  const [mode, setMode] = useState<Mode>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const s =
        mode === 'login'
          ? await api.login(username.trim(), password)
          : await api.register(username.trim(), password, displayName.trim() || undefined);
      onSignedIn(s.user);
    } catch (err) {
      setError(mode === 'login' && (err as { code?: string }).code === 'unauthorized' ? 'Wrong username or password.' : errorText(err));
      setBusy(false);
    }
  };

  const switchTo = (m: Mode) => {
    setMode(m);
    setError(null);
  };

  return (
    <div className="auth">
      <div className="auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">◆</span>
          <h1>Actor Chat</h1>
        </div>
        <div className="tabs" role="tablist" aria-label="Sign in or create an account">
          <button type="button" role="tab" aria-selected={mode === 'login'} className={mode === 'login' ? 'tab active' : 'tab'} onClick={() => switchTo('login')}>
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={mode === 'register'} className={mode === 'register' ? 'tab active' : 'tab'} onClick={() => switchTo('register')}>
            Create account
          </button>
        </div>
        {notice && !error && <p className="notice" role="status">{notice}</p>}
        <form onSubmit={submit} className="form" aria-describedby={error ? `${ids}-err` : undefined}>
          <label htmlFor={`${ids}-user`}>Username</label>
          <input
            id={`${ids}-user`}
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            minLength={3}
            maxLength={32}
            pattern="[A-Za-z0-9_.\-]{3,32}"
            title="3–32 characters: letters, digits, _ . -"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
          />
          {mode === 'register' && (
            <>
              <label htmlFor={`${ids}-display`}>
                Display name <span className="optional">(optional)</span>
              </label>
              <input id={`${ids}-display`} name="displayName" autoComplete="nickname" maxLength={64} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
            </>
          )}
          <label htmlFor={`${ids}-pass`}>Password</label>
          <input
            id={`${ids}-pass`}
            name="password"
            type="password"
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            required
            minLength={8}
            maxLength={72}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {mode === 'register' && <p className="hint">At least 8 characters.</p>}
          {error && (
            <p className="error" role="alert" id={`${ids}-err`}>
              {error}
            </p>
          )}
          <button type="submit" className="primary wide" disabled={busy}>
            {busy ? 'Please wait…' : mode === 'login' ? 'Sign in' : 'Create account'}
          </button>
        </form>
      </div>
    </div>
  );
}
