// Checks on files picked for upload, before they go out (the server checks
// again, by content: docs/protocol.md "Files and avatars").
import { IMAGE_TYPES, MAX_UPLOAD_BYTES, UPLOAD_TYPES } from '../lib/client';
import { formatBytes } from './format';

/** What can be attached, for hints. */
export const ALLOWED_FILES_TEXT = `Images (PNG, JPEG, GIF, WebP), PDF and text files up to ${formatBytes(MAX_UPLOAD_BYTES)}`;

/** Why a file cannot be attached to a message (short, for its chip), or null. */
export function fileProblem(f: { size: number; type: string }): string | null {
  if (f.size === 0) return 'Empty file';
  if (f.size > MAX_UPLOAD_BYTES) return `Over ${formatBytes(MAX_UPLOAD_BYTES)}`;
  // An unknown declared type is left to the server, which sniffs the content.
  const type = baseType(f.type);
  if (type && !UPLOAD_TYPES.includes(type)) return 'Type not allowed';
  return null;
}

/** Why a file cannot be an avatar, or null. */
export function avatarProblem(f: { size: number; type: string }): string | null {
  if (f.size === 0) return 'The file is empty.';
  if (!IMAGE_TYPES.includes(baseType(f.type))) return 'Choose a PNG, JPEG, GIF or WebP image.';
  if (f.size > MAX_UPLOAD_BYTES) return `The image is larger than ${formatBytes(MAX_UPLOAD_BYTES)}.`;
  return null;
}

function baseType(t: string): string {
  return t.split(';')[0].trim().toLowerCase();
}
