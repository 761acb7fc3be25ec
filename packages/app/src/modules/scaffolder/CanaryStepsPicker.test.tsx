// The test reads the real template from the repository (jest runs on Node).
// eslint-disable-next-line no-restricted-imports
import { readFileSync } from 'fs';
// eslint-disable-next-line no-restricted-imports
import { resolve } from 'path';
import { parse } from 'yaml';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { CustomFieldValidator } from '@backstage/plugin-scaffolder-react';
import {
  Stepper,
  createAsyncValidators,
  createFieldValidation,
} from '@backstage/plugin-scaffolder-react/alpha';
import {
  CANARY_STEPS_PICKER,
  CanaryStepsPicker,
  canaryStepsValidation,
} from './CanaryStepsPicker';

// The Delivery step exactly as the Rust service template declares it, so the test also proves
// that the template asks for this field and that the stepper finds it inside `dependencies`.
const template = parse(
  readFileSync(
    resolve(__dirname, '../../../../../templates/rust-service/template.yaml'),
    'utf8',
  ),
);
const deliveryStep = template.spec.parameters.find(
  (step: { title: string }) => step.title === 'Delivery',
);

const LABEL = 'Canary traffic weights (%)';

beforeAll(() => {
  // The stepper scrolls to the top on each step; jsdom has no layout to scroll.
  window.scrollTo = jest.fn();
});

function renderDeliveryStep() {
  const onCreate = jest.fn(async () => {});
  const result = renderInTestApp(
    <Stepper
      manifest={{
        title: template.metadata.title,
        steps: [{ title: deliveryStep.title, schema: deliveryStep }],
      }}
      extensions={[
        {
          name: CANARY_STEPS_PICKER,
          component: CanaryStepsPicker,
          validation: canaryStepsValidation,
        },
      ]}
      initialState={{ strategy: 'Canary' }}
      onCreate={onCreate}
    />,
  );
  return { ...result, onCreate };
}

async function weightsInput() {
  return screen.findByRole('textbox', {
    name: new RegExp(`^${escape(LABEL)}`),
  });
}

/** The errors the stepper shows under the field after "Review" (none before). */
function fieldErrors() {
  return document.getElementById('root_canarySteps__error')?.textContent ?? '';
}

function escape(text: string) {
  return text.replace(/[()%]/g, c => `\\${c}`);
}

// The whole Delivery step of the real template is rendered and typed into: about 2 s per test on
// a quiet machine, and well past jest's 5 s default on a loaded one (the analysis fields made
// the form longer). A wait that is not a timing assertion.
jest.setTimeout(30_000);

describe('CanaryStepsPicker in the Rust service template', () => {
  it('asks for the canary weights with this field', () => {
    expect(deliveryStep.dependencies.strategy.oneOf).toContainEqual(
      expect.objectContaining({
        properties: expect.objectContaining({
          canarySteps: expect.objectContaining({
            'ui:field': CANARY_STEPS_PICKER,
            title: LABEL,
            default: [20, 50],
          }),
        }),
      }),
    );
  });

  it('accepts the default weights untouched and shows the steps they produce', async () => {
    const user = userEvent.setup();
    const { onCreate } = renderDeliveryStep();

    const input = await weightsInput();
    expect(input).toHaveValue('20, 50');
    expect(input).toHaveAccessibleDescription(
      expect.stringContaining('Steps: 20% → pause → 50% → pause → 100%'),
    );
    expect(
      screen.getByText('Steps: 20% → pause → 50% → pause → 100%'),
    ).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Review' }));
    await user.click(await screen.findByRole('button', { name: 'Create' }));

    await waitFor(() =>
      expect(onCreate).toHaveBeenCalledWith(
        expect.objectContaining({ strategy: 'Canary', canarySteps: [20, 50] }),
      ),
    );
  });

  it('follows what the user types', async () => {
    const user = userEvent.setup();
    const { onCreate } = renderDeliveryStep();

    const input = await weightsInput();
    await user.clear(input);
    await user.type(input, '10, 25 60');
    expect(
      screen.getByText('Steps: 10% → pause → 25% → pause → 60% → pause → 100%'),
    ).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Review' }));
    await user.click(await screen.findByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(onCreate).toHaveBeenCalledWith(
        expect.objectContaining({ canarySteps: [10, 25, 60] }),
      ),
    );
  });

  it('refuses weights that do not increase in the form, before anything runs', async () => {
    const user = userEvent.setup();
    const { onCreate } = renderDeliveryStep();

    const input = await weightsInput();
    await user.clear(input);
    await user.type(input, '50, 20');
    // Said while typing ...
    expect(
      screen.getByText('Weights must increase: 20 is not above 50'),
    ).toBeInTheDocument();
    expect(screen.queryByText(/^Steps:/)).not.toBeInTheDocument();

    // ... and the stepper's validation keeps the user on the step.
    expect(fieldErrors()).toBe('');
    await user.click(screen.getByRole('button', { name: 'Review' }));
    await waitFor(() =>
      expect(fieldErrors()).toBe('Weights must increase: 20 is not above 50'),
    );
    expect(
      screen.queryByRole('button', { name: 'Create' }),
    ).not.toBeInTheDocument();
    expect(onCreate).not.toHaveBeenCalled();

    // Fixed, it goes on.
    await user.clear(input);
    await user.type(input, '20, 50, 80');
    await user.click(screen.getByRole('button', { name: 'Review' }));
    await user.click(await screen.findByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(onCreate).toHaveBeenCalledWith(
        expect.objectContaining({ canarySteps: [20, 50, 80] }),
      ),
    );
  });

  it.each([
    ['20, 20', 'Weights must increase: 20 is given twice in a row'],
    ['0, 50', '0 is not a weight: use whole percentages from 1 to 99'],
    [
      '50, 100',
      '100 is not a canary weight: the rollout goes to 100% by itself after the last pause',
    ],
    ['20, abc', '"abc" is not a weight: use whole percentages from 1 to 99'],
    ['1 2 3 4 5 6 7 8 9 10 11', 'At most 10 weights, got 11'],
    ['', 'Give at least one traffic weight, e.g. 20, 50'],
  ])('refuses "%s"', async (typed, problem) => {
    const user = userEvent.setup();
    const { onCreate } = renderDeliveryStep();

    const input = await weightsInput();
    await user.clear(input);
    if (typed) {
      await user.type(input, typed);
    }
    expect(screen.getByText(problem)).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Review' }));
    await waitFor(() => expect(input).toHaveAttribute('aria-invalid', 'true'));
    expect(
      screen.queryByRole('button', { name: 'Create' }),
    ).not.toBeInTheDocument();
    expect(onCreate).not.toHaveBeenCalled();
  });
});

describe('canaryStepsValidation', () => {
  // As the stepper holds them: by field name, for values of any type.
  const validators = {
    [CANARY_STEPS_PICKER]:
      canaryStepsValidation as CustomFieldValidator<unknown>,
  };

  it('adds an error per problem and none for valid weights', () => {
    const context = {} as Parameters<typeof canaryStepsValidation>[2];

    const valid = createFieldValidation();
    canaryStepsValidation([20, 50], valid, context);
    expect(valid.__errors).toEqual([]);

    const invalid = createFieldValidation();
    canaryStepsValidation([50, 20, 20], invalid, context);
    expect(invalid.__errors).toEqual([
      'Weights must increase: 20 is not above 50',
      'Weights must increase: 20 is given twice in a row',
    ]);
  });

  // What the stepper runs on "Next"/"Review": it must find the field inside the template's
  // `dependencies` and report there, whatever JSON schema already says.
  it.each([
    [[50, 20], ['Weights must increase: 20 is not above 50']],
    [[20, 20], ['Weights must increase: 20 is given twice in a row']],
    [
      [0, 100],
      [
        '0 is not a weight: use whole percentages from 1 to 99',
        '100 is not a canary weight: the rollout goes to 100% by itself after the last pause',
      ],
    ],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], ['At most 10 weights, got 11']],
  ])(
    'is run by the stepper on the Delivery step for %j',
    async (weights, errors) => {
      const validate = createAsyncValidators(deliveryStep, validators, {
        apiHolder: { get: () => undefined },
      });
      const result = await validate({
        port: 8080,
        strategy: 'Canary',
        cluster: 'local',
        namespace: 'default',
        canarySteps: weights,
      });
      expect(result).toEqual({
        canarySteps: expect.objectContaining({ __errors: errors }),
      });
    },
  );

  it('leaves the default canary and the other strategies alone', async () => {
    const validate = createAsyncValidators(deliveryStep, validators, {
      apiHolder: { get: () => undefined },
    });
    const base = { port: 8080, cluster: 'local', namespace: 'default' };
    expect(
      await validate({ ...base, strategy: 'Canary', canarySteps: [20, 50] }),
    ).toEqual({ canarySteps: expect.objectContaining({ __errors: [] }) });
    expect(await validate({ ...base, strategy: 'RollingUpdate' })).toEqual({});
    // Weights left over from choosing Canary first do not hold up another strategy.
    expect(
      await validate({ ...base, strategy: 'BlueGreen', canarySteps: [50, 20] }),
    ).toEqual({});
  });
});
