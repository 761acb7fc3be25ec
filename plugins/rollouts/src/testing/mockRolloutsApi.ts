import { ResponseError } from '@backstage/errors';
import type { RolloutsApi } from '../api';

export function mockRolloutsApi(
  overrides: Partial<Record<keyof RolloutsApi, jest.Mock>> = {},
): jest.Mocked<RolloutsApi> {
  return {
    getRollouts: jest.fn().mockResolvedValue([]),
    getHistory: jest.fn().mockResolvedValue([]),
    startRollout: jest.fn().mockResolvedValue(undefined),
    runAction: jest.fn().mockResolvedValue(undefined),
    getPipeline: jest
      .fn()
      .mockResolvedValue({ entityRef: '', source: 'config', stages: [] }),
    promoteRelease: jest.fn().mockResolvedValue(undefined),
    getApprovals: jest.fn().mockResolvedValue([]),
    approve: jest.fn().mockResolvedValue(undefined),
    deny: jest.fn().mockResolvedValue(undefined),
    ...overrides,
  } as jest.Mocked<RolloutsApi>;
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
