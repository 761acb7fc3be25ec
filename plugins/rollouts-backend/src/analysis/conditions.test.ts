import { judge, parseCondition, thresholdOf } from './conditions';
import {
  AnalysisDeclarationError,
  parseAnalysis,
  parseGoDuration,
  renderQuery,
} from './declaration';
import { resultOf } from './PrometheusClient';

describe('conditions', () => {
  it('judges at the boundaries as Argo does', () => {
    const success = parseCondition('result < 0.01');
    const failure = parseCondition('result >= 0.05');
    expect(judge(0.0099, { success, failure }).phase).toBe('Successful');
    expect(judge(0.01, { success, failure }).phase).toBe('Inconclusive');
    expect(judge(0.05, { success, failure }).phase).toBe('Failed');
    expect(judge(0.01, { success }).phase).toBe('Failed');
    expect(judge(0.04, { failure }).phase).toBe('Successful');
  });

  it('reads result[0], && and ||, and refuses anything else', () => {
    const c = parseCondition('result[0] > 1 && result <= 2 || result == 10');
    expect(judge(1.5, { success: c }).phase).toBe('Successful');
    expect(judge(10, { success: c }).phase).toBe('Successful');
    expect(judge(3, { success: c }).phase).toBe('Failed');
    expect(thresholdOf(c)).toBeUndefined();
    expect(thresholdOf(parseCondition('result < 0.5'))).toBe(0.5);
    expect(() => parseCondition('len(result) > 0')).toThrow(
      /cannot read "len\(result\) > 0"/,
    );
  });
});

describe('analysis declarations', () => {
  it('reads an AnalysisTemplate spec (or a whole template) with Argo defaults', () => {
    const [m] = parseAnalysis(`
spec:
  metrics:
    - name: latency-p99
      interval: 1m30s
      count: 3
      successCondition: result < 0.5
      provider: { prometheus: { query: "up" } }
`).metrics;
    expect(m).toMatchObject({
      name: 'latency-p99',
      intervalMs: 90_000,
      count: 3,
      failureLimit: 0,
      inconclusiveLimit: 0,
      threshold: 0.5,
      query: 'up',
    });
  });

  it('names what is wrong', () => {
    const bad = (metric: string) => () =>
      parseAnalysis(`metrics:\n  - name: m\n${metric}`);
    expect(
      bad('    interval: 10s\n    successCondition: result < 1\n'),
    ).toThrow('metric m: provider.prometheus.query is missing');
    expect(
      bad(
        '    interval: soon\n    successCondition: result < 1\n    provider: {prometheus: {query: up}}\n',
      ),
    ).toThrow(/interval "soon"/);
    expect(bad('    provider: {prometheus: {query: up}}\n')).toThrow(
      'metric m has neither successCondition nor failureCondition',
    );
    expect(
      bad(
        '    failureLimit: -1\n    successCondition: result < 1\n    provider: {prometheus: {query: up}}\n',
      ),
    ).toThrow(AnalysisDeclarationError);
    expect(() => parseAnalysis('metrics: []')).toThrow('declares no metrics');
  });

  it('parses Go durations and substitutes args', () => {
    expect(parseGoDuration('10s')).toBe(10_000);
    expect(parseGoDuration('1h1m1s')).toBe(3_661_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('1x')).toBeUndefined();
    expect(
      renderQuery(
        'a{n="{{args.namespace}}",r="{{ args.role }}",x="{{args.other}}"}',
        {
          namespace: 'shop',
          role: 'canary',
        },
      ),
    ).toBe('a{n="shop",r="canary",x="{{args.other}}"}');
  });
});

describe('Prometheus answers', () => {
  it('takes the first sample of a vector or a scalar; empty and NaN are no value', () => {
    expect(
      resultOf({ resultType: 'vector', result: [{ value: [1, '0.25'] }] }),
    ).toEqual({ value: 0.25 });
    expect(resultOf({ resultType: 'scalar', result: [1, '2'] })).toEqual({
      value: 2,
    });
    expect(resultOf({ resultType: 'vector', result: [] })).toEqual({
      empty: 'the query returned no series',
    });
    expect(
      resultOf({ resultType: 'vector', result: [{ value: [1, 'NaN'] }] }),
    ).toEqual({ empty: 'the query returned NaN' });
    expect(resultOf({ resultType: 'matrix', result: [] })).toHaveProperty(
      'error',
    );
  });
});
