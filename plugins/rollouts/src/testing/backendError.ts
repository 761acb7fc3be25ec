import { ResponseError } from '@backstage/errors';

/**
 * The error RolloutsClient throws for a Backstage error response with this status. Shared by the
 * tests and the dev app, so both see exactly what the client would raise.
 */
export function backendError(
  status: number,
  name: string,
  message: string,
): Promise<ResponseError> {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name, message },
        request: { method: 'POST', url: '/api/rollouts' },
        response: { statusCode: status },
      }),
      { status, headers: { 'Content-Type': 'application/json' } },
    ) as any,
  );
}
