/**
 * Canary traffic weights as the Rust service template takes them: each a whole percentage from
 * 1 to 99, strictly increasing, at most 10; the rollout pauses after each and ends at 100%.
 * The same rules are enforced again by `rust:params:validate` on the server; these give the
 * form its messages before anything runs.
 */

/** The most weights a canary may have (the template's `maxItems`). */
export const MAX_CANARY_WEIGHTS = 10;

/** What the user typed, one entry per weight: a number, or the text that is not one. */
export type CanaryWeightsInput = Array<number | string>;

/**
 * Reads weights typed as "20, 50" (commas or spaces). Numbers become numbers; anything else is
 * kept as typed so that the form refuses it by name instead of dropping it silently.
 */
export function parseCanaryWeights(text: string): CanaryWeightsInput {
  return text
    .split(/[\s,;]+/)
    .filter(token => token !== '')
    .map(token => (/^[+-]?\d+(\.\d+)?$/.test(token) ? Number(token) : token));
}

/** Writes weights back as the text the field shows. */
export function formatCanaryWeights(weights: unknown): string {
  return Array.isArray(weights) ? weights.join(', ') : '';
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function isWeight(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 1 &&
    value <= 99
  );
}

/**
 * Everything wrong with a list of weights, as sentences for the form; empty when the weights
 * make a valid canary.
 */
export function canaryWeightsProblems(weights: unknown): string[] {
  if (!Array.isArray(weights) || weights.length === 0) {
    return ['Give at least one traffic weight, e.g. 20, 50'];
  }
  const problems: string[] = [];
  if (weights.length > MAX_CANARY_WEIGHTS) {
    problems.push(
      `At most ${MAX_CANARY_WEIGHTS} weights, got ${weights.length}`,
    );
  }
  weights.forEach((weight, index) => {
    if (!isWeight(weight)) {
      problems.push(
        weight === 100
          ? '100 is not a canary weight: the rollout goes to 100% by itself after the last pause'
          : `${describe(
              weight,
            )} is not a weight: use whole percentages from 1 to 99`,
      );
      return;
    }
    const previous = weights[index - 1];
    if (index === 0 || !isWeight(previous)) {
      return;
    }
    if (weight === previous) {
      problems.push(`Weights must increase: ${weight} is given twice in a row`);
    } else if (weight < previous) {
      problems.push(
        `Weights must increase: ${weight} is not above ${previous}`,
      );
    }
  });
  return [...new Set(problems)];
}

/**
 * The steps a valid list of weights produces, as the rollout runs them:
 * `[20, 50]` gives "20% → pause → 50% → pause → 100%".
 */
export function describeCanarySteps(weights: number[]): string {
  return [...weights.flatMap(weight => [`${weight}%`, 'pause']), '100%'].join(
    ' → ',
  );
}
