import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { makeStyles } from '@material-ui/core/styles';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { ROLLOUT_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutName } from './format';

const useStyles = makeStyles(theme => ({
  command: {
    display: 'block',
    marginTop: theme.spacing(0.5),
    padding: theme.spacing(0.5, 1),
    overflowX: 'auto',
    whiteSpace: 'pre',
    fontFamily: 'monospace',
    backgroundColor: theme.palette.action.hover,
    borderRadius: theme.shape.borderRadius,
  },
}));

/**
 * Whether the cluster withholds this workload from the entity's owners: it names another entity,
 * none, or several. The server then sends no allowed actions; the UI offers none either.
 * A view without a binding comes from a backend that predates it, where `allowedActions` decides.
 */
export function isReadOnlyByBinding(rollout: RolloutView): boolean {
  return Boolean(rollout.binding) && rollout.binding.status !== 'bound';
}

/** The server's reason in words, or ours when it sent none. */
function reasonOf(rollout: RolloutView, entityRef: string): string {
  if (rollout.binding.message) {
    return rollout.binding.message;
  }
  const name = `${rollout.namespace}/${rollout.workload}`;
  switch (rollout.binding.status) {
    case 'elsewhere':
      return `Workload ${name} belongs to ${rollout.binding.entityRefs.join(
        ', ',
      )}, not to ${entityRef}`;
    case 'unbound':
      return `Workload ${name} does not name the entity it belongs to`;
    default:
      return `The cluster does not name one entity for workload ${name}`;
  }
}

/** Server messages read as error text, without a full stop; here they open a paragraph. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The command that binds a workload to an entity, for the platform team to run. */
export function bindCommand(rollout: RolloutView, entityRef: string): string {
  return `kubectl annotate deployment ${rollout.workload} -n ${rollout.namespace} ${ROLLOUT_ANNOTATIONS.entity}=${entityRef}`;
}

/**
 * Why a workload shown on this entity's page is read-only here, and what would change that:
 * the entity it is bound to (a link to its page), or how a platform engineer binds it.
 * Renders nothing for a bound workload.
 */
export function WorkloadBindingNotice(props: {
  rollout: RolloutView;
  /** The entity whose page shows the workload, as a string ref (`component:default/name`). */
  entityRef: string;
}) {
  const { rollout, entityRef } = props;
  const classes = useStyles();
  if (!isReadOnlyByBinding(rollout)) {
    return null;
  }
  const { status, entityRefs } = rollout.binding;
  return (
    <Alert
      severity={status === 'contested' ? 'warning' : 'info'}
      role="note"
      aria-label={`Read-only: ${rolloutName(rollout)}`}
    >
      <Typography variant="body2" component="p">
        <strong>Read-only:</strong> {sentence(reasonOf(rollout, entityRef))}
      </Typography>
      {status === 'elsewhere' && entityRefs.length > 0 && (
        <Typography variant="body2" component="p">
          {'Its owners act on it from '}
          {entityRefs.map((ref, i) => (
            <Box component="span" key={ref}>
              {i > 0 && ', '}
              <EntityRefLink entityRef={ref}>{ref}</EntityRefLink>
            </Box>
          ))}
          .
        </Typography>
      )}
      {status === 'unbound' && (
        <Typography variant="body2" component="div">
          {`If it belongs to ${entityRef}, a platform engineer binds it with the ${ROLLOUT_ANNOTATIONS.entity} annotation on the Deployment (or on its namespace, for a team that owns the whole namespace):`}
          <code className={classes.command}>
            {bindCommand(rollout, entityRef)}
          </code>
        </Typography>
      )}
      {status === 'contested' && (
        <Typography variant="body2" component="p">
          {`Nobody acts on it from the portal until the Deployment and its namespace name one entity in ${ROLLOUT_ANNOTATIONS.entity}.`}
        </Typography>
      )}
    </Alert>
  );
}
