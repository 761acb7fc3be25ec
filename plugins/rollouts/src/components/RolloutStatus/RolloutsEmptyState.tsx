import { EmptyState } from '@backstage/core-components';
import { MissingAnnotationEmptyState } from '@backstage/plugin-catalog-react';
import { KUBERNETES_ID_ANNOTATION } from '@rust-delivery-portal/plugin-rollouts-common';

const KUBERNETES_DOCS =
  'https://backstage.io/docs/features/kubernetes/configuration#surfacing-your-kubernetes-components-as-part-of-an-entity';

/** The entity does not say which workloads are its own. */
export function MissingKubernetesAnnotation() {
  return (
    <MissingAnnotationEmptyState
      annotation={KUBERNETES_ID_ANNOTATION}
      readMoreUrl={KUBERNETES_DOCS}
    />
  );
}

/** The entity is annotated, but no cluster runs a workload with its label. */
export function NoWorkloadsFound(props: { entityName: string }) {
  return (
    <EmptyState
      missing="data"
      title="No workloads found"
      description={`No workloads found in the configured clusters for ${props.entityName}. Check that its Deployments carry the label named by the ${KUBERNETES_ID_ANNOTATION} annotation and that their cluster is listed in kubernetes.clusterLocatorMethods.`}
    />
  );
}
