import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/** A JSON-RPC error body for HTTP-level refusals, as the SDK's own middleware writes them. */
export function httpError(
  code: number,
  message: string,
): { jsonrpc: '2.0'; error: { code: number; message: string }; id: null } {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

/**
 * Requires `Authorization: Bearer <token>`. Both sides are hashed first so the comparison takes the
 * same time whatever the length or content of the guess.
 */
export function bearerAuth(token: string): RequestHandler {
  const expected = createHash('sha256').update(token).digest();
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    if (match && timingSafeEqual(given, expected)) return next();
    res
      .status(401)
      .set(
        'WWW-Authenticate',
        match ? 'Bearer realm="asyncmcp", error="invalid_token"' : 'Bearer realm="asyncmcp"',
      )
      .json(
        httpError(
          -32001,
          match ? 'Unauthorized: invalid bearer token' : 'Unauthorized: bearer token required',
        ),
      );
  };
}

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTNAMES.has(host);
}

/**
 * Refuses browser requests from origins that are not allowed (DNS rebinding, cross-site calls): a
 * request with an `Origin` header passes only when the origin is listed or, for a gateway bound to
 * loopback with no list, when it is itself a loopback origin. Requests without `Origin` (non-browser
 * clients) pass.
 */
export function originValidation(options: {
  allowedOrigins: readonly string[];
  loopbackOnly: boolean;
}): RequestHandler {
  const allowed = new Set(options.allowedOrigins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined || allowed.has(origin)) return next();
    if (allowed.size === 0 && options.loopbackOnly) {
      try {
        if (isLoopbackHost(new URL(origin).hostname)) return next();
      } catch {
        // fall through to the refusal
      }
    }
    res.status(403).json(httpError(-32000, `Forbidden: origin ${origin} is not allowed`));
  };
}
