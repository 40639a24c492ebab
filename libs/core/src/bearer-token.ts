import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A check of an `authorization` header against `Bearer <token>`, in constant time (both sides are
 * hashed first, so neither the token's length nor its bytes leak through timing).
 */
export function bearerTokenCheck(token: string): (authorization: unknown) => boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  const expected = digest(`Bearer ${token}`);
  return (authorization) => typeof authorization === 'string' && timingSafeEqual(digest(authorization), expected);
}
