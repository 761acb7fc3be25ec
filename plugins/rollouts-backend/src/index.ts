/**
 * The rollouts backend plugin: runs rolling update, canary and blue-green rollouts of an entity's
 * Kubernetes workloads, with permission checks, audit events, history, signals and notifications.
 *
 * @packageDocumentation
 */
export { rolloutsPlugin as default } from './plugin';
