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

export { backendError } from './backendError';
