import { ResponseError } from '@backstage/errors';
import type { RolloutsApi } from '../api';

export function mockRolloutsApi(
  overrides: Partial<jest.Mocked<RolloutsApi>> = {},
): jest.Mocked<RolloutsApi> {
  return {
    getRollouts: jest.fn().mockResolvedValue([]),
    getHistory: jest.fn().mockResolvedValue([]),
    startRollout: jest.fn().mockResolvedValue(undefined),
    runAction: jest.fn().mockResolvedValue(undefined),
    ...overrides,
  };
}

/** The error the client throws for a Backstage error response with this status. */
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
