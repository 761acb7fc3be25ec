import { ApiBlueprint } from '@backstage/frontend-plugin-api';
import { createExtensionTester } from '@backstage/frontend-test-utils';
import scaffolderPlugin from '@backstage/plugin-scaffolder/alpha';
import {
  FormFieldBlueprint,
  ScaffolderFormFieldsApi,
} from '@backstage/plugin-scaffolder-react/alpha';
import { canaryStepsField } from './CanaryStepsPicker';
import { canaryStepsFormField, scaffolderModule } from './index';

describe('scaffolderModule', () => {
  it('belongs to the scaffolder plugin', () => {
    expect(scaffolderModule.pluginId).toBe('scaffolder');
  });

  it('loads the field lazily', async () => {
    const loadField = createExtensionTester(canaryStepsFormField).get(
      FormFieldBlueprint.dataRefs.formFieldLoader,
    );
    await expect(loadField()).resolves.toBe(canaryStepsField);
  });

  it("reaches the scaffolder's form-fields API, from which every template form takes its fields", async () => {
    const tester = createExtensionTester(
      scaffolderPlugin.getExtension('api:scaffolder/form-fields'),
    ).add(canaryStepsFormField);
    expect(tester.snapshot().children?.formFields).toEqual([
      expect.objectContaining({
        // `scaffolder-form-field:scaffolder/canary-steps-picker` once installed with the module
        id: expect.stringMatching(
          /^scaffolder-form-field:.*canary-steps-picker$/,
        ),
      }),
    ]);

    const factory = tester.get(ApiBlueprint.dataRefs.factory);
    // No scaffolder page in this tree: only the fields attached to the API count.
    const formFieldsApi = factory.factory({
      appTreeApi: { getTree: () => ({ tree: { nodes: new Map() } }) },
    }) as ScaffolderFormFieldsApi;
    const fields = (await formFieldsApi.loadFormFields()) as unknown as Array<{
      name: string;
      validation?: unknown;
    }>;
    expect(fields).toEqual([
      expect.objectContaining({
        name: 'CanaryStepsPicker',
        validation: expect.any(Function),
      }),
    ]);
  });
});
