/**
 * Reliability and security suites; nothing to import. See README.md and /RELIABILITY.md.
 *
 * @packageDocumentation
 */
export {};
