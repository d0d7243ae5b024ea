/** Code-point order for names: unlike localeCompare it does not depend on the host's locale (determinism). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
