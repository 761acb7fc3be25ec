import { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_ID_LABEL,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
} from '@rust-delivery-portal/plugin-rollouts-common';

/** One requirement of a label selector. */
export interface Requirement {
  test(labels: Record<string, string>): boolean;
  /**
   * Whether it can only match objects that carry a label (`a=b`, `a in (..)`, `a`). A selector
   * without one (`!a`, `a!=b`, `a notin (..)`) matches every object lacking a label: nearly
   * everything in a cluster.
   */
  positive: boolean;
}

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
        return {
          positive: op === 'in',
          test: l =>
            op === 'in' ? values.includes(l[key]) : !values.includes(l[key]),
        };
      }
      m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part);
      if (m) {
        const [, key, op, value] = m;
        return {
          positive: op !== '!=',
          test: l => (op === '!=' ? l[key] !== value : l[key] === value),
        };
      }
      m = /^(!?)([\w./-]+)$/.exec(part);
      if (m) {
        const [, not, key] = m;
        return {
          positive: !not,
          test: l => (not ? !(key in l) : key in l),
        };
      }
      throw new InputError(`Cannot parse label selector "${selector}"`);
    });
}

/** How an entity finds its workloads, following the Kubernetes plugin's annotations. */
export interface WorkloadSelector {
  namespace?: string;
  matches(labels: Record<string, string> | undefined): boolean;
}

/**
 * The entity's workload selector; `undefined` without the annotations. A label selector that
 * would match nearly every object (no requirement that needs a label) is refused with a 400:
 * every view of the entity would scan every Deployment of every cluster.
 */
export function workloadSelectorFor(
  entity: Entity,
): WorkloadSelector | undefined {
  const annotations = entity.metadata.annotations ?? {};
  const id = annotations[KUBERNETES_ID_ANNOTATION];
  const selector = annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION];
  const namespace = annotations[KUBERNETES_NAMESPACE_ANNOTATION] || undefined;
  if (selector) {
    const requirements = parseLabelSelector(selector);
    if (!requirements.some(r => r.positive)) {
      throw new InputError(
        `The ${KUBERNETES_LABEL_SELECTOR_ANNOTATION} annotation "${selector}" matches nearly every object: it needs at least one requirement a workload must carry (such as app=NAME, a label that must exist, or "in")`,
      );
    }
    return {
      namespace,
      matches: l => requirements.every(r => r.test(l ?? {})),
    };
  }
  if (id) {
    return { namespace, matches: l => l?.[KUBERNETES_ID_LABEL] === id };
  }
  return undefined;
}
