import { useState } from 'react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import {
  CompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutName } from '../RolloutStatus/format';
import {
  isReadOnlyByBinding,
  WorkloadBindingNotice,
} from '../RolloutStatus/WorkloadBindingNotice';
import { ACTIONS, ActionDefinition } from './actions';
import { RolloutActionDialog } from './RolloutActionDialog';
import { freezeExplanation } from '../Gates';

/**
 * Why a button is disabled. The server sends only what this user may do now, so an empty list
 * means no permission at all (owners can always restart or deploy), otherwise it is the phase.
 */
function disabledReason(rollout: RolloutView, definition: ActionDefinition) {
  if (rollout.allowedActions.length === 0) {
    return `You are not allowed to ${definition.verb} ${rollout.workload}: only its owners can.`;
  }
  return `${definition.label} is not possible while ${rolloutName(
    rollout,
  )} is ${rollout.phase}.`;
}

/** @public */
export interface RolloutActionBarProps {
  entityRef: CompoundEntityRef;
  rollout: RolloutView;
  /** Refetch the rollouts and history, after an action or when the view turned out stale. */
  onRefresh: () => void;
}

/**
 * Every action as a button, enabled per the rollout's `allowedActions`, each behind a dialog.
 * A workload the cluster does not bind to this entity gets no buttons at all, only the reason:
 * no permission would change that, so disabled buttons would only suggest otherwise.
 */
export function RolloutActionBar(props: RolloutActionBarProps) {
  const { entityRef, rollout, onRefresh } = props;
  // The dialog keeps the rollout as it was when opened: polling must not change what the user
  // confirms, and the request carries the revision and step they saw.
  const [open, setOpen] = useState<{
    definition: ActionDefinition;
    seen: RolloutView;
  }>();
  if (isReadOnlyByBinding(rollout)) {
    return (
      <WorkloadBindingNotice
        rollout={rollout}
        entityRef={stringifyEntityRef(entityRef)}
      />
    );
  }
  const allowed = new Set<string>(rollout.allowedActions);

  const readOnly = rollout.allowedActions.length === 0;
  return (
    <>
      <Box
        role="toolbar"
        aria-label={`Actions for ${rolloutName(rollout)}`}
        display="flex"
        flexWrap="wrap"
        gridGap={8}
      >
        {ACTIONS.map(definition => {
          const enabled = allowed.has(definition.action);
          // Frozen actions stay clickable (the server decides, and may take an override); the
          // tooltip says what will happen.
          const frozen = enabled
            ? freezeExplanation(rollout.freeze, definition.action)
            : undefined;
          const button = (
            <Button
              variant={enabled ? 'outlined' : 'text'}
              color={definition.action === 'abort' ? 'secondary' : 'primary'}
              size="small"
              disabled={!enabled}
              aria-label={definition.label}
              onClick={() => setOpen({ definition, seen: rollout })}
            >
              {definition.label}
            </Button>
          );
          if (frozen) {
            return (
              <Tooltip key={definition.action} title={frozen}>
                <span>{button}</span>
              </Tooltip>
            );
          }
          return enabled ? (
            <span key={definition.action}>{button}</span>
          ) : (
            <Tooltip
              key={definition.action}
              title={disabledReason(rollout, definition)}
            >
              {/* A disabled button fires no events; the span carries the tooltip. */}
              <span>{button}</span>
            </Tooltip>
          );
        })}
        {open && (
          <RolloutActionDialog
            entityRef={entityRef}
            rollout={open.seen}
            definition={open.definition}
            onClose={() => setOpen(undefined)}
            onRefresh={onRefresh}
          />
        )}
      </Box>
      {readOnly && (
        <Typography variant="body2" color="textSecondary">
          {`You can see this rollout but not change it: only the owners of ${rollout.workload} can.`}
        </Typography>
      )}
    </>
  );
}
