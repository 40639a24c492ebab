import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A check of an `authorization` header against `Bearer <token>`, in constant time (both sides are
 * hashed first, so neither the token's length nor its bytes leak through timing). The scheme is
 * case-insensitive (RFC 7235: `bearer`, `BEARER` are `Bearer`), and spaces around the
 * credentials do not matter; the token itself must match exactly.
 */
export function bearerTokenCheck(token: string): (authorization: unknown) => boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  const expected = digest(token);
  return (authorization) => {
    if (typeof authorization !== 'string') return false;
    const m = /^\s*bearer\s+(.+?)\s*$/i.exec(authorization);
    return m !== null && timingSafeEqual(digest(m[1] as string), expected);
  };
}
