/** Reads a spec file (YAML or JSON), validates it, and makes secret file references absolute. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { mergePropertiesIntoConnection, PropertiesFileError } from './kafkaProperties';
import { parseSpec, SpecError, type MigrationSpec, type SecretRef } from './spec';

export function loadSpecFile(path: string): MigrationSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SpecError([`cannot read spec file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`], path);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new SpecError([`not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`], path);
  }
  const baseDir = dirname(resolve(path));
  const spec = parseSpec(applyPropertiesFiles(raw, baseDir, path), `spec ${path}`);
  return absolutizeSecretFiles(spec, baseDir);
}

/**
 * `source.propertiesFile` / `target.propertiesFile` (Kafka client properties, relative to the spec): their
 * settings are merged under the spec's own fields, which win. The password stays in the file.
 */
export function applyPropertiesFiles(raw: unknown, baseDir: string, specPath = 'spec'): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out = { ...(raw as Record<string, unknown>) };
  const issues: string[] = [];
  for (const role of ['source', 'target'] as const) {
    const conn = out[role];
    if (!conn || typeof conn !== 'object' || Array.isArray(conn)) continue;
    const file = (conn as Record<string, unknown>).propertiesFile;
    if (file === undefined) continue;
    if (typeof file !== 'string' || !file) {
      issues.push(`${role}.propertiesFile: expected a file path`);
      continue;
    }
    try {
      out[role] = mergePropertiesIntoConnection(conn as Record<string, unknown>, resolve(baseDir, file));
    } catch (e) {
      if (!(e instanceof PropertiesFileError)) throw e;
      issues.push(`${role}.propertiesFile: ${e.message}`);
    }
  }
  if (issues.length) throw new SpecError(issues, `spec ${specPath}`);
  return out;
}

/**
 * Properties files and the reports folder are relative to the spec's folder. A `{ file: }` secret stays as
 * written: a relative one names a file in the secrets directory of whichever worker runs the activity
 * (src/config/secrets.ts), since the operator's folders do not exist on the workers' hosts.
 */
export function absolutizeSecretFiles(spec: MigrationSpec, baseDir: string): MigrationSpec {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const fixRef = (ref: SecretRef): SecretRef => {
    if ('propertiesFile' in ref) return { propertiesFile: abs(ref.propertiesFile) };
    return ref;
  };
  const fix = <T extends { sasl?: { password: SecretRef }; propertiesFile?: string }>(c: T): T => ({
    ...c,
    ...(c.propertiesFile ? { propertiesFile: abs(c.propertiesFile) } : {}),
    ...(c.sasl ? { sasl: { ...c.sasl, password: fixRef(c.sasl.password) } } : {}),
  });
  return { ...spec, source: fix(spec.source), target: fix(spec.target), reports: { ...spec.reports, dir: abs(spec.reports.dir) } };
}
