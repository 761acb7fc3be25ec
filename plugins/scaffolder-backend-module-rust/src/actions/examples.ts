import { stringify } from 'yaml';

/** Renders an action example as the YAML a template author writes. */
export function yaml(value: unknown): string {
  return stringify(value);
}
