import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';

/**
 * `ui:field: CanaryStepsPicker` for the Rust service template: canary traffic weights checked
 * in the form (strictly increasing, 1-99, at most 10) with the steps they produce.
 */
export const canaryStepsFormField = FormFieldBlueprint.make({
  name: 'canary-steps-picker',
  params: {
    field: () => import('./CanaryStepsPicker').then(m => m.canaryStepsField),
  },
});

/** The app's additions to the scaffolder plugin. */
export const scaffolderModule = createFrontendModule({
  pluginId: 'scaffolder',
  extensions: [canaryStepsFormField],
});
