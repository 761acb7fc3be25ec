/**
 * Types, permissions, annotation names and API schemas shared by the rollouts plugins.
 *
 * @packageDocumentation
 */
export * from './annotations';
export * from './types';
export * from './permissions';
export * from './api';
export * from './signals';
export * from './pipelines';
export * from './gates';
