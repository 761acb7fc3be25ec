/**
 * Argo Rollouts' `successCondition` / `failureCondition`, in the small form the portal's engine
 * evaluates: comparisons of `result` (or `result[0]`) with a number, joined by `&&` and `||`
 * (`&&` binds tighter). Anything else is refused when the declaration is read, not at the first
 * measurement.
 */

type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';

interface Comparison {
  op: Op;
  value: number;
}

/** Alternatives (`||`) of conjunctions (`&&`) of comparisons. */
export interface Condition {
  text: string;
  anyOf: Comparison[][];
}

const COMPARISON =
  /^\s*result(?:\[0\])?\s*(<=|>=|==|!=|<|>)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*$/i;

/** Parses a condition; throws an Error naming what it cannot read. */
export function parseCondition(text: string): Condition {
  const anyOf = text.split('||').map(alternative =>
    alternative.split('&&').map(part => {
      const m = COMPARISON.exec(part);
      if (!m) {
        throw new Error(
          `cannot read "${part.trim()}" in condition "${text}": expected result <op> <number> with < <= > >= == !=, joined by && or ||`,
        );
      }
      return { op: m[1] as Op, value: Number(m[2]) };
    }),
  );
  return { text: text.trim(), anyOf };
}

function compare(result: number, { op, value }: Comparison): boolean {
  switch (op) {
    case '<':
      return result < value;
    case '<=':
      return result <= value;
    case '>':
      return result > value;
    case '>=':
      return result >= value;
    case '==':
      return result === value;
    default:
      return result !== value;
  }
}

export function holds(condition: Condition, result: number): boolean {
  return condition.anyOf.some(all => all.every(c => compare(result, c)));
}

/** The number the condition compares against, when it is a single comparison (drawn on the chart). */
export function thresholdOf(condition?: Condition): number | undefined {
  if (!condition) return undefined;
  const [first] = condition.anyOf;
  return condition.anyOf.length === 1 && first.length === 1
    ? first[0].value
    : undefined;
}

/**
 * Argo's verdict for one value: a failure condition that holds fails it; a success condition
 * that holds passes it; with only one of the two declared, the other outcome is its negation;
 * with both and neither holding, the value is inconclusive.
 */
export function judge(
  result: number,
  conditions: { success?: Condition; failure?: Condition },
): { phase: 'Successful' | 'Failed' | 'Inconclusive'; message: string } {
  const { success, failure } = conditions;
  if (failure && holds(failure, result)) {
    return { phase: 'Failed', message: `${failure.text} holds` };
  }
  if (success) {
    if (holds(success, result)) {
      return { phase: 'Successful', message: `${success.text} holds` };
    }
    return failure
      ? {
          phase: 'Inconclusive',
          message: `neither ${success.text} nor ${failure.text} holds`,
        }
      : { phase: 'Failed', message: `${success.text} does not hold` };
  }
  return { phase: 'Successful', message: `${failure!.text} does not hold` };
}
