/**
 * What differs from one worker host to the next: where its secrets are (`--secrets-dir`, KM_SECRETS_DIR),
 * where it writes reports (`--reports-dir`, KM_REPORTS_DIR) and its name (`--identity`, KM_WORKER_IDENTITY).
 * Flags win over the environment; the result is put back into the environment, where secret resolution and
 * report writing read it. A secrets directory that does not exist fails the worker at start, naming it.
 */
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { workerIdentity } from './identity';

export interface HostSettings {
  secretsDir?: string;
  reportsDir?: string;
  identity?: string;
}

export class HostSettingsError extends Error {}

export function applyHostSettings(flags: HostSettings): Required<Pick<HostSettings, 'identity'>> & HostSettings {
  const secretsDir = flags.secretsDir ?? process.env.KM_SECRETS_DIR;
  const reportsDir = flags.reportsDir ?? process.env.KM_REPORTS_DIR;
  if (flags.identity) process.env.KM_WORKER_IDENTITY = flags.identity;
  const out: HostSettings = {};
  if (secretsDir) {
    const abs = resolve(secretsDir);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw new HostSettingsError(`secrets directory ${abs} (--secrets-dir / KM_SECRETS_DIR): expected an existing directory`);
    process.env.KM_SECRETS_DIR = out.secretsDir = abs;
  }
  if (reportsDir) {
    const abs = resolve(reportsDir);
    try {
      mkdirSync(abs, { recursive: true });
    } catch (e) {
      throw new HostSettingsError(
        `reports directory ${abs} (--reports-dir / KM_REPORTS_DIR): cannot create it (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    process.env.KM_REPORTS_DIR = out.reportsDir = abs;
  }
  return { ...out, identity: workerIdentity() };
}
