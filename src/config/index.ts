/**
 * The public face of src/config (src/bin imports it from here). Everything lives in
 * server-config.ts; this file only re-exports it. Must never: hold logic.
 */
export * from './server-config.js';
