import { ReactNode } from 'react';
import { act, renderHook, waitFor } from '@testing-library/react';
import { TestApiProvider } from '@backstage/test-utils';
import { rolloutsApiRef, RolloutsApi } from '../api';
import {
  pausedCanary,
  paymentsApi,
  progressingRollingUpdate,
} from '../testing/fixtures';
import { mockRolloutsApi } from '../testing/mockRolloutsApi';
import {
  IDLE_POLL_MS,
  PROGRESSING_POLL_MS,
  rolloutsSignalChannel,
  useRollouts,
} from './useRollouts';

function wrapper(api: RolloutsApi) {
  return ({ children }: { children: ReactNode }) => (
    <TestApiProvider apis={[[rolloutsApiRef, api]]}>{children}</TestApiProvider>
  );
}

describe('useRollouts', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('names the signal channel after the entity ref', () => {
    expect(rolloutsSignalChannel(paymentsApi)).toBe(
      'rollouts:component:default/payments-api',
    );
  });

  it('polls slowly when nothing is progressing', async () => {
    const api = mockRolloutsApi({
      getRollouts: jest.fn().mockResolvedValue([pausedCanary()]),
    });
    const { result } = renderHook(() => useRollouts(paymentsApi), {
      wrapper: wrapper(api),
    });
    await waitFor(() => expect(result.current.rollouts).toHaveLength(1));
    expect(api.getRollouts).toHaveBeenCalledTimes(1);

    await act(async () => {
      jest.advanceTimersByTime(PROGRESSING_POLL_MS);
    });
    expect(api.getRollouts).toHaveBeenCalledTimes(1);

    await act(async () => {
      jest.advanceTimersByTime(IDLE_POLL_MS - PROGRESSING_POLL_MS);
    });
    expect(api.getRollouts).toHaveBeenCalledTimes(2);
  });

  it('polls fast while a rollout is progressing, keeping the last view meanwhile', async () => {
    const api = mockRolloutsApi({
      getRollouts: jest.fn().mockResolvedValue([progressingRollingUpdate()]),
    });
    const { result } = renderHook(() => useRollouts(paymentsApi), {
      wrapper: wrapper(api),
    });
    await waitFor(() => expect(result.current.rollouts).toHaveLength(1));

    await act(async () => {
      jest.advanceTimersByTime(PROGRESSING_POLL_MS);
    });
    expect(api.getRollouts).toHaveBeenCalledTimes(2);
    expect(result.current.rollouts).toHaveLength(1);
  });
});
