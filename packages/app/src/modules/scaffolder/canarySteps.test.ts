import {
  canaryWeightsProblems,
  describeCanarySteps,
  formatCanaryWeights,
  parseCanaryWeights,
} from './canarySteps';

describe('parseCanaryWeights', () => {
  it('reads weights separated by commas or spaces', () => {
    expect(parseCanaryWeights('20, 50')).toEqual([20, 50]);
    expect(parseCanaryWeights(' 10 25,60 ')).toEqual([10, 25, 60]);
    expect(parseCanaryWeights('20, ')).toEqual([20]);
    expect(parseCanaryWeights('')).toEqual([]);
  });

  it('keeps what is not a number as typed, so that it is refused by name', () => {
    expect(parseCanaryWeights('20, abc, 12.5')).toEqual([20, 'abc', 12.5]);
  });

  it('round-trips with formatCanaryWeights', () => {
    expect(formatCanaryWeights([20, 50])).toBe('20, 50');
    expect(parseCanaryWeights(formatCanaryWeights([5, 10, 99]))).toEqual([
      5, 10, 99,
    ]);
    expect(formatCanaryWeights(undefined)).toBe('');
  });
});

describe('canaryWeightsProblems', () => {
  it('accepts the default and other strictly increasing weights from 1 to 99', () => {
    expect(canaryWeightsProblems([20, 50])).toEqual([]);
    expect(canaryWeightsProblems([1])).toEqual([]);
    expect(canaryWeightsProblems([1, 2, 3, 4, 5, 6, 7, 8, 9, 99])).toEqual([]);
  });

  it('refuses weights that go down', () => {
    expect(canaryWeightsProblems([50, 20])).toEqual([
      'Weights must increase: 20 is not above 50',
    ]);
    expect(canaryWeightsProblems([10, 60, 30, 40])).toEqual([
      'Weights must increase: 30 is not above 60',
    ]);
  });

  it('refuses duplicates', () => {
    expect(canaryWeightsProblems([20, 20])).toEqual([
      'Weights must increase: 20 is given twice in a row',
    ]);
    expect(canaryWeightsProblems([20, 50, 20])).toEqual([
      'Weights must increase: 20 is not above 50',
    ]);
  });

  it('refuses weights outside 1 to 99 and what is not a whole number', () => {
    expect(canaryWeightsProblems([0, 50])).toEqual([
      '0 is not a weight: use whole percentages from 1 to 99',
    ]);
    expect(canaryWeightsProblems([50, 100])).toEqual([
      '100 is not a canary weight: the rollout goes to 100% by itself after the last pause',
    ]);
    expect(canaryWeightsProblems([-5, 12.5, 'abc'])).toEqual([
      '-5 is not a weight: use whole percentages from 1 to 99',
      '12.5 is not a weight: use whole percentages from 1 to 99',
      '"abc" is not a weight: use whole percentages from 1 to 99',
    ]);
  });

  it('refuses an empty list, something that is not a list, and more than 10 weights', () => {
    expect(canaryWeightsProblems([])).toEqual([
      'Give at least one traffic weight, e.g. 20, 50',
    ]);
    expect(canaryWeightsProblems(undefined)).toEqual([
      'Give at least one traffic weight, e.g. 20, 50',
    ]);
    expect(canaryWeightsProblems([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])).toEqual([
      'At most 10 weights, got 11',
    ]);
  });

  it('reports every problem once', () => {
    expect(canaryWeightsProblems([50, 20, 20, 150])).toEqual([
      'Weights must increase: 20 is not above 50',
      'Weights must increase: 20 is given twice in a row',
      '150 is not a weight: use whole percentages from 1 to 99',
    ]);
  });
});

describe('describeCanarySteps', () => {
  it('shows a pause after each weight and the final promotion', () => {
    expect(describeCanarySteps([20, 50])).toBe(
      '20% → pause → 50% → pause → 100%',
    );
    expect(describeCanarySteps([10])).toBe('10% → pause → 100%');
  });
});
