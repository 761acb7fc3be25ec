import { resolve } from 'node:path';

// kube-real always runs from its sources (bin/kube-real, tests), never from a bundle, and needs
// its scripts/ folder (the build and the process guard) next to them.
// eslint-disable-next-line no-restricted-syntax
export const PACKAGE_DIR = resolve(__dirname, '..');
