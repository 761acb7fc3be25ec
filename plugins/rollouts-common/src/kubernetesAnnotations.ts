/**
 * The Backstage Kubernetes plugin's entity annotations, in a module of their own: the frontend
 * decides with them whether an entity gets the rollouts card, and that check runs in the app's
 * initial chunk, so it must not drag the rest of the annotation names (or anything else) along.
 */

/**
 * Entity annotations of the Backstage Kubernetes plugin that map an entity to its workloads.
 * @public
 */
export const KUBERNETES_ID_ANNOTATION = 'backstage.io/kubernetes-id';
/** @public */
export const KUBERNETES_LABEL_SELECTOR_ANNOTATION =
  'backstage.io/kubernetes-label-selector';
/** @public */
export const KUBERNETES_NAMESPACE_ANNOTATION =
  'backstage.io/kubernetes-namespace';
