/** The preflight checks (one activity each), the pure summary, and the report writer. */
export { checkVersions } from './checkVersions';
export { checkSecurity } from './checkSecurity';
export { checkPermissions } from './checkPermissions';
export { checkAcls } from './checkAcls';
export { checkEcosystem } from './checkEcosystem';
export { checkReachability } from './checkReachability';
export { checkCapacity } from './checkCapacity';
export { checkTargetState } from './checkTargetState';
export { checkClients } from './checkClients';
export { summarizePreflight } from './summary';
export { writePreflightReport } from '../../reports/preflightReport';
