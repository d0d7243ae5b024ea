/** Reads a spec file (YAML or JSON), validates it, and makes secret file references absolute. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSpec, SpecError, type MigrationSpec } from './spec';

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
  const spec = parseSpec(raw, `spec ${path}`);
  return absolutizeSecretFiles(spec, dirname(resolve(path)));
}

/** File references are relative to the spec's folder; the worker may run elsewhere. */
export function absolutizeSecretFiles(spec: MigrationSpec, baseDir: string): MigrationSpec {
  const fix = <T extends { sasl?: { password: { env: string } | { file: string } } }>(c: T): T => {
    if (!c.sasl || !('file' in c.sasl.password) || isAbsolute(c.sasl.password.file)) return c;
    return { ...c, sasl: { ...c.sasl, password: { file: resolve(baseDir, c.sasl.password.file) } } };
  };
  return { ...spec, source: fix(spec.source), target: fix(spec.target) };
}
