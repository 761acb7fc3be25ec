import {
  ROLLOUT_ANNOTATIONS,
  WorkloadBinding,
} from '@rust-delivery-portal/plugin-rollouts-common';
import {
  boundEntityRefs,
  normalizeEntityRef,
} from '@rust-delivery-portal/plugin-rollouts-node';
import { KubernetesObject } from '@kubernetes/client-node';

/**
 * Whether the cluster says a workload belongs to `entityRef`: the Deployment's own annotation
 * names exactly one entity, or (for teams that own whole namespaces) its Namespace lists the
 * entities whose workloads it holds. Both are written by whoever may write to the cluster, never
 * by a catalog author, so this, not the entity's annotations, decides who may act.
 *
 * When both say something they must agree: a Deployment that names an entity its namespace does
 * not list is contested, as is a Deployment naming several entities. A namespace that lists
 * several entities is an allow-list: each Deployment in it names its own.
 */
export function bindingOf(
  workload: KubernetesObject,
  namespace: KubernetesObject | undefined,
  entityRef: string,
): WorkloadBinding {
  const wanted = normalizeEntityRef(entityRef);
  const own = boundEntityRefs(workload);
  const listed = boundEntityRefs(namespace);
  const name = `${workload.metadata?.namespace}/${workload.metadata?.name}`;
  const annotation = ROLLOUT_ANNOTATIONS.entity;

  if (own === 'invalid' || listed === 'invalid') {
    return {
      status: 'contested',
      entityRefs: [],
      message: `The ${annotation} annotation of ${
        own === 'invalid'
          ? `workload ${name}`
          : `namespace ${workload.metadata?.namespace}`
      } is not a list of entity refs, so nobody may act on ${name} from the portal`,
    };
  }
  if (own && own.length > 1) {
    return {
      status: 'contested',
      entityRefs: own,
      message: `Workload ${name} names several entities (${own.join(
        ', ',
      )}) in its ${annotation} annotation; a workload belongs to one`,
    };
  }
  if (own && listed && !listed.includes(own[0])) {
    return {
      status: 'contested',
      entityRefs: own,
      message: `Workload ${name} names ${
        own[0]
      }, but its namespace holds only the workloads of ${listed.join(', ')}`,
    };
  }
  if (!own && listed && listed.length > 1) {
    // Which of them would it be? Several entities' selectors could match it: it must say.
    return {
      status: 'unbound',
      entityRefs: [],
      message: `Workload ${name} does not name its entity, and its namespace holds the workloads of several (${listed.join(
        ', ',
      )}): annotate the Deployment with ${annotation}`,
    };
  }
  const refs = own ?? listed;
  if (!refs) {
    return {
      status: 'unbound',
      entityRefs: [],
      message: `Workload ${name} does not name the entity it belongs to (annotation ${annotation} on the Deployment or its namespace), so it is read-only in the portal`,
    };
  }
  if (refs.includes(wanted)) return { status: 'bound', entityRefs: [wanted] };
  return {
    status: 'elsewhere',
    entityRefs: refs,
    message: `Workload ${name} belongs to ${refs.join(
      ', ',
    )}, not to ${wanted}: only its own entity's owners may act on it`,
  };
}

/** The one entity a workload is bound to, or `undefined` when it is unbound or contested. */
export function boundEntityOf(
  workload: KubernetesObject,
  namespace: KubernetesObject | undefined,
): string | undefined {
  const own = boundEntityRefs(workload);
  const listed = boundEntityRefs(namespace);
  let candidate: string | undefined;
  if (own) {
    candidate = own === 'invalid' ? undefined : own[0];
  } else if (listed && listed !== 'invalid' && listed.length === 1) {
    candidate = listed[0];
  }
  if (!candidate) return undefined;
  return bindingOf(workload, namespace, candidate).status === 'bound'
    ? candidate
    : undefined;
}
