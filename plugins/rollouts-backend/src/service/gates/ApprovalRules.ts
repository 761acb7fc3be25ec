import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import { AllowedAction } from '@rust-delivery-portal/plugin-rollouts-common';
import { GateTarget, TargetScope, scopeMatches } from './targets';

/**
 * What a rule protects: `start`, `promote-full`, or `promote` (any promote: a step or the whole
 * way). Retry is protected with start, since it starts the aborted rollout again.
 */
const PROTECTABLE = ['start', 'promote-full', 'promote'] as const;
type Protected = (typeof PROTECTABLE)[number];

interface ApprovalRule {
  scope: TargetScope;
  actions: Set<Protected>;
  expiresAfterMs: number;
}

const DEFAULT_EXPIRY_MS = 24 * 3_600_000;

function expiryOf(config: Config, key: string, fallback: number) {
  if (!config.has(key)) return fallback;
  const ms = durationToMilliseconds(readDurationFromConfig(config, { key }));
  if (!(ms > 0))
    throw new Error(`rollouts.approvals ${key} must be a positive duration`);
  return ms;
}

/**
 * The four-eyes rules from `rollouts.approvals`: on which clusters / namespaces which actions
 * need another owner's approval, and how long a request waits for it.
 */
export class ApprovalRules {
  constructor(private readonly rules: ApprovalRule[]) {}

  static fromConfig(config: Config): ApprovalRules {
    const root = config.getOptionalConfig('rollouts.approvals');
    if (!root) return new ApprovalRules([]);
    const defaultExpiry = expiryOf(root, 'expiresAfter', DEFAULT_EXPIRY_MS);
    return new ApprovalRules(
      (root.getOptionalConfigArray('rules') ?? []).map((c, i) => {
        const where = `rollouts.approvals.rules[${i}]`;
        const actions = c.getStringArray('actions');
        for (const a of actions) {
          if (!(PROTECTABLE as readonly string[]).includes(a)) {
            throw new Error(
              `${where}.actions: "${a}" is not one of ${PROTECTABLE.join(
                ', ',
              )}`,
            );
          }
        }
        const scope = {
          clusters: c.getOptionalStringArray('clusters'),
          namespaces: c.getOptionalStringArray('namespaces'),
        };
        if (!scope.clusters && !scope.namespaces) {
          throw new Error(`${where} must name clusters or namespaces`);
        }
        return {
          scope,
          actions: new Set(actions as Protected[]),
          expiresAfterMs: expiryOf(c, 'expiresAfter', defaultExpiry),
        };
      }),
    );
  }

  /** How long a request lives when this action here needs approval; undefined when it does not. */
  expiryFor(action: AllowedAction, target: GateTarget): number | undefined {
    const asked: Protected[] = [];
    if (action === 'start' || action === 'retry') asked.push('start');
    if (action === 'promote' || action === 'promote-full')
      asked.push('promote');
    if (action === 'promote-full') asked.push('promote-full');
    const matching = this.rules.filter(
      r => scopeMatches(r.scope, target) && asked.some(a => r.actions.has(a)),
    );
    if (!matching.length) return undefined;
    return Math.min(...matching.map(r => r.expiresAfterMs));
  }
}
