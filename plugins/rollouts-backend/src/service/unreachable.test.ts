import { ServiceUnavailableError } from '@backstage/errors';
import { callOwnBackend, connectionErrorCode } from './unreachable';

function fetchError(code: string) {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:7007`), {
    name: 'FetchError',
    type: 'system',
    code,
    errno: code,
  });
}

describe('connectionErrorCode', () => {
  it('finds the socket error of node-fetch, of undici (cause) and of happy eyeballs (AggregateError)', () => {
    expect(connectionErrorCode(fetchError('ECONNREFUSED'))).toBe(
      'ECONNREFUSED',
    );
    expect(
      connectionErrorCode(
        new TypeError('fetch failed', { cause: fetchError('ECONNRESET') }),
      ),
    ).toBe('ECONNRESET');
    // What net.connect reports when every address of a dual-stack name failed.
    expect(
      connectionErrorCode(
        new AggregateError([
          fetchError('ETIMEDOUT'),
          fetchError('ECONNREFUSED'),
        ]),
      ),
    ).toBe('ETIMEDOUT');
    expect(
      connectionErrorCode(new Error('Request failed with 500')),
    ).toBeUndefined();
    expect(
      connectionErrorCode(Object.assign(new Error('x'), { code: 'ENOENT' })),
    ).toBeUndefined();
  });
});

describe('callOwnBackend', () => {
  it('tries once more, then answers 503 with the reason', async () => {
    const call = jest.fn(async () => {
      throw fetchError('ECONNREFUSED');
    });
    const failed = callOwnBackend('The catalog', call, 1);
    await expect(failed).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(failed).rejects.toThrow(
      /^The catalog could not be reached \(ECONNREFUSED\); nothing was done, retry in a moment; caused by FetchError: connect ECONNREFUSED/,
    );
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('returns what the second try gives', async () => {
    const call = jest
      .fn()
      .mockRejectedValueOnce(fetchError('ECONNRESET'))
      .mockResolvedValueOnce('entity');
    await expect(callOwnBackend('The catalog', call, 1)).resolves.toBe(
      'entity',
    );
  });

  it('leaves other errors alone, untried', async () => {
    const call = jest.fn(async () => {
      throw new Error('Request failed with 500 Internal Server Error');
    });
    await expect(callOwnBackend('The catalog', call, 1)).rejects.toThrow(/500/);
    expect(call).toHaveBeenCalledTimes(1);
  });
});
