import { useEffect, useState } from 'react';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import {
  CustomFieldValidator,
  makeFieldSchema,
} from '@backstage/plugin-scaffolder-react';
import { createFormField } from '@backstage/plugin-scaffolder-react/alpha';
import {
  CanaryWeightsInput,
  MAX_CANARY_WEIGHTS,
  canaryWeightsProblems,
  describeCanarySteps,
  formatCanaryWeights,
  parseCanaryWeights,
} from './canarySteps';

/** The name templates use: `ui:field: CanaryStepsPicker`. */
export const CANARY_STEPS_PICKER = 'CanaryStepsPicker';

const DEFAULT_LABEL = 'Canary traffic weights (%)';

/** The value the field produces (documented in the template editor's field explorer). */
export const CanaryStepsPickerSchema = makeFieldSchema({
  output: z =>
    z
      .array(z.number().int().min(1).max(99))
      .min(1)
      .max(MAX_CANARY_WEIGHTS)
      .describe(
        'Canary traffic weights in percent, strictly increasing, each 1-99',
      ),
});

type CanaryStepsPickerProps = typeof CanaryStepsPickerSchema.TProps;

/**
 * Adds one error per problem; the stepper shows them under the field and refuses to go on,
 * which JSON schema alone cannot do for "strictly increasing".
 */
export const canaryStepsValidation: CustomFieldValidator<number[]> = (
  weights,
  validation,
) => {
  for (const problem of canaryWeightsProblems(weights)) {
    validation.addError(problem);
  }
};

const sameWeights = (a: unknown, b: unknown) =>
  JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/**
 * Canary weights typed as "20, 50", with the steps they will produce shown as the user types,
 * or what is wrong with them.
 */
export const CanaryStepsPicker = (props: CanaryStepsPickerProps) => {
  const {
    formData,
    onChange,
    required,
    disabled,
    readonly,
    rawErrors = [],
    idSchema,
    schema: { title = DEFAULT_LABEL, description },
    uiSchema: { 'ui:autofocus': autoFocus },
  } = props;
  const [text, setText] = useState(() => formatCanaryWeights(formData));

  // The form can replace the value (going back a step, query parameters): show what it holds,
  // unless it is what the text already says (typing "20, " must not be reformatted to "20").
  useEffect(() => {
    setText(current =>
      sameWeights(parseCanaryWeights(current), formData)
        ? current
        : formatCanaryWeights(formData),
    );
  }, [formData]);

  const weights = parseCanaryWeights(text);
  const problems = canaryWeightsProblems(weights);
  // Problems the stepper already lists under the field after "Next" are not repeated here.
  const liveProblems = problems.filter(problem => !rawErrors.includes(problem));
  const id = idSchema?.$id ?? 'canary-steps';

  return (
    <>
      <TextField
        id={id}
        label={title}
        placeholder="20, 50"
        helperText={description}
        required={required}
        disabled={disabled || readonly}
        value={text}
        onChange={event => {
          setText(event.target.value);
          // Non-numbers stay in the value so the form refuses them instead of losing them.
          onChange(
            parseCanaryWeights(
              event.target.value,
            ) as CanaryWeightsInput as number[],
          );
        }}
        error={rawErrors.length > 0 || problems.length > 0}
        margin="normal"
        inputProps={{
          autoFocus,
          // MUI's own helper text, then the steps or problems line below.
          'aria-describedby': [
            description && `${id}-helper-text`,
            `${id}-steps`,
          ]
            .filter(Boolean)
            .join(' '),
        }}
        FormHelperTextProps={{ margin: 'dense', style: { marginLeft: 0 } }}
      />
      <div id={`${id}-steps`} aria-live="polite">
        {problems.length === 0 ? (
          <Typography variant="body2">
            Steps: {describeCanarySteps(weights as number[])}
          </Typography>
        ) : (
          liveProblems.map(problem => (
            <Typography key={problem} variant="body2" color="error">
              {problem}
            </Typography>
          ))
        )}
      </div>
    </>
  );
};

/** The form field for the new frontend system, loaded lazily by `FormFieldBlueprint`. */
export const canaryStepsField = createFormField({
  name: CANARY_STEPS_PICKER,
  component: CanaryStepsPicker,
  validation: canaryStepsValidation,
  schema: CanaryStepsPickerSchema,
});
