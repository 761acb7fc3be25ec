import { ServiceUnavailableError } from '@backstage/errors';

/** Socket-level failures: the peer was not reached or dropped the connection, it did not answer. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** The socket error code of a failed request (node-fetch's FetchError, undici's cause, Node's AggregateError). */
export function connectionErrorCode(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (err: unknown): string | undefined => {
    if (!err || typeof err !== 'object' || seen.has(err)) return undefined;
    seen.add(err);
    const { code, errno, cause, errors } = err as {
      code?: unknown;
      errno?: unknown;
      cause?: unknown;
      errors?: unknown[];
    };
    for (const c of [code, errno]) {
      if (typeof c === 'string' && CONNECTION_CODES.has(c)) return c;
    }
    return (
      visit(cause) ??
      (Array.isArray(errors) ? errors.map(visit).find(Boolean) : undefined)
    );
  };
  return visit(e);
}

/**
 * Calls another plugin of this backend (the catalog, the permission backend) over HTTP. A call
 * that never reached it (refused, reset, timed out while connecting: a backend too busy to accept,
 * or one shutting down) is tried once more, then answered as 503 "retry", never as a 500: nothing
 * was done, and the same request may succeed a moment later.
 */
export async function callOwnBackend<T>(
  what: string,
  call: () => Promise<T>,
  retryDelayMs = 200,
): Promise<T> {
  try {
    return await call();
  } catch (first) {
    if (!connectionErrorCode(first)) throw first;
    await new Promise(r => setTimeout(r, retryDelayMs));
    try {
      return await call();
    } catch (second) {
      const code = connectionErrorCode(second);
      if (!code) throw second;
      throw new ServiceUnavailableError(
        `${what} could not be reached (${code}); nothing was done, retry in a moment`,
        second,
      );
    }
  }
}
