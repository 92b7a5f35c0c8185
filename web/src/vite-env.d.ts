/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Comma-separated WebSocket URLs to try in order (default: the page's own origin). */
  readonly VITE_WS_URLS?: string;
}
