/** Every activity the worker registers. Names are what the Temporal UI shows: keep them readable. */
export { checkConnectivity } from './connectivity';
