/**
 * Node.js library of the rollouts plugins, shared by the rollouts backend and the Rust template's
 * scaffolder module.
 *
 * @packageDocumentation
 */
export * from './clusters';
export * from './binding';
