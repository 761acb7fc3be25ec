import { crd, int, obj, open } from './schema';

/**
 * Argo Rollouts' Rollout at `argoproj.io/v1alpha1`, written for this project from Argo's
 * documented spec (not its CRD file): the status and scale subresources as Argo's manifest
 * serves them (so that the kubectl plugin's merge patches to `/status` behave as on a cluster
 * running Argo), `spec.replicas` typed, the rest kept as sent. The engine reads no AnalysisRun
 * (the analysis it shows comes from the Rollout's status), so no AnalysisRun CRD is installed.
 */
export const rolloutCrd = crd({
  group: 'argoproj.io',
  version: 'v1alpha1',
  kind: 'Rollout',
  plural: 'rollouts',
  shortNames: ['ro'],
  categories: ['all'],
  spec: open({
    replicas: int({ minimum: 0 }),
    paused: { type: 'boolean' },
    restartAt: { type: 'string', format: 'date-time' },
    selector: open(),
    template: open(),
    workloadRef: open(),
    strategy: open(),
  }),
  status: open({
    HPAReplicas: int(),
    selector: { type: 'string' },
    currentStepIndex: int({ minimum: 0 }),
    abort: { type: 'boolean' },
    promoteFull: { type: 'boolean' },
    controllerPause: { type: 'boolean' },
    pauseConditions: {
      type: 'array',
      items: obj(
        { reason: { type: 'string' }, startTime: { type: 'string' } },
        { required: ['reason', 'startTime'] },
      ),
    },
  }),
  scale: {
    specReplicasPath: '.spec.replicas',
    statusReplicasPath: '.status.HPAReplicas',
    labelSelectorPath: '.status.selector',
  },
  printerColumns: [
    { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
    {
      name: 'Available',
      type: 'integer',
      jsonPath: '.status.availableReplicas',
    },
  ],
});

export const ARGO_ROLLOUTS_CRDS = [rolloutCrd];
