import { buildMatcher, parseLabelSelector, labelsMatch } from './selectors';

describe('selectors', () => {
  const obj = (labels: Record<string, string>, phase = 'Running') => ({
    metadata: { name: 'p', namespace: 'ns', labels },
    status: { phase },
  });

  it('matches equality, set-based and existence requirements', () => {
    const reqs = parseLabelSelector(
      'app=web,tier in (a, b),!legacy,env,version notin (1)',
    );
    expect(
      labelsMatch({ app: 'web', tier: 'a', env: 'x', version: '2' }, reqs),
    ).toBe(true);
    expect(labelsMatch({ app: 'web', tier: 'c', env: 'x' }, reqs)).toBe(false);
    expect(
      labelsMatch({ app: 'web', tier: 'a', env: 'x', legacy: 'y' }, reqs),
    ).toBe(false);
    expect(
      labelsMatch({ app: 'web', tier: 'a', env: 'x', version: '1' }, reqs),
    ).toBe(false);
  });

  it('combines label and field selectors', () => {
    const m = buildMatcher(
      'app=web',
      'metadata.namespace=ns,status.phase!=Pending',
    )!;
    expect(m(obj({ app: 'web' }))).toBe(true);
    expect(m(obj({ app: 'web' }, 'Pending'))).toBe(false);
    expect(() => buildMatcher(null, 'spec.unknownField=1')).toThrow(
      /field label not supported/,
    );
    expect(() => parseLabelSelector('a in b')).toThrow();
  });
});
