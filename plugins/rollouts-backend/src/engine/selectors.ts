import { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_ID_LABEL,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
} from '@internal/plugin-rollouts-common';

type Requirement = (labels: Record<string, string>) => boolean;

/**
 * Parses an equality- and set-based label selector (`app=a,tier in (x,y),!legacy`), the syntax of
 * the `backstage.io/kubernetes-label-selector` annotation.
 */
export function parseLabelSelector(selector: string): Requirement[] {
  const parts = selector.match(/([^,(]+(\([^)]*\))?)/g) ?? [];
  return parts
    .map(p => p.trim())
    .filter(Boolean)
    .map((part): Requirement => {
      let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
      if (m) {
        const [, key, op, list] = m;
        const values = list.split(',').map(v => v.trim());
        return l =>
          op === 'in' ? values.includes(l[key]) : !values.includes(l[key]);
      }
      m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part);
      if (m) {
        const [, key, op, value] = m;
        return l => (op === '!=' ? l[key] !== value : l[key] === value);
      }
      m = /^(!?)([\w./-]+)$/.exec(part);
      if (m) {
        const [, not, key] = m;
        return l => (not ? !(key in l) : key in l);
      }
      throw new InputError(`Cannot parse label selector "${selector}"`);
    });
}

/** How an entity finds its workloads, following the Kubernetes plugin's annotations. */
export interface WorkloadSelector {
  namespace?: string;
  matches(labels: Record<string, string> | undefined): boolean;
}

export function workloadSelectorFor(
  entity: Entity,
): WorkloadSelector | undefined {
  const annotations = entity.metadata.annotations ?? {};
  const id = annotations[KUBERNETES_ID_ANNOTATION];
  const selector = annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION];
  const namespace = annotations[KUBERNETES_NAMESPACE_ANNOTATION] || undefined;
  if (selector) {
    const requirements = parseLabelSelector(selector);
    return { namespace, matches: l => requirements.every(r => r(l ?? {})) };
  }
  if (id) {
    return { namespace, matches: l => l?.[KUBERNETES_ID_LABEL] === id };
  }
  return undefined;
}
