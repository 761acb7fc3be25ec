import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

/** One `promql_expr_test` of a `promtool test rules` file. */
export interface PromqlExpectation {
  expr: string;
  evalTime: string;
  samples: Array<{ labels: string; value: number }>;
}

/**
 * Evaluates PromQL expressions with Prometheus' own engine (`promtool test rules`, from Debian's
 * `prometheus` package) over input series, and returns promtool's complaints ('' when every
 * expectation held). A bare query cannot go through `promtool check`, a unit test file can.
 */
export function promtoolTest(options: {
  scrapeInterval: string;
  series: Array<{ series: string; values: string }>;
  expectations: PromqlExpectation[];
}): string {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(
      "promtool is not on PATH: install Debian's prometheus package (apt-get install -y prometheus); this check evaluates the rendered queries with it",
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
  try {
    const file = path.join(dir, 'queries.test.yaml');
    fs.writeFileSync(
      file,
      stringify({
        evaluation_interval: '1m',
        tests: [
          {
            interval: options.scrapeInterval,
            input_series: options.series,
            promql_expr_test: options.expectations.map(e => ({
              expr: e.expr,
              eval_time: e.evalTime,
              exp_samples: e.samples,
            })),
          },
        ],
      }),
    );
    const result = spawnSync('promtool', ['test', 'rules', file], {
      encoding: 'utf8',
    });
    return result.status === 0 ? '' : `${result.stdout}${result.stderr}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
