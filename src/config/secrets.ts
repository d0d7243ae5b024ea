/**
 * Resolves secret references on the worker, at connection time. The resolved value lives only in the
 * memory of the Kafka client: it is never returned from an activity, logged, or written to a report.
 * Workers on several hosts: a relative `{ file: }` is looked up in the secrets directory of the worker that
 * runs the activity (`KM_SECRETS_DIR`, the worker's `--secrets-dir`; its working directory without one), an
 * absolute one as it is, `{ env: }` in that worker's environment. Errors name the worker and the reference.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { workerIdentity } from '../worker/identity';
import { passwordFromPropertiesFile, propertyFromPropertiesFile, PropertiesFileError } from './kafkaProperties';
import type { SecretRef } from './spec';

export class SecretResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretResolutionError';
  }
}

export function describeSecretRef(ref: SecretRef): string {
  if ('env' in ref) return `environment variable ${ref.env}`;
  if ('file' in ref) return `file ${ref.file}`;
  return `${ref.property ?? 'sasl.jaas.config'} of properties file ${ref.propertiesFile}`;
}

/** This process's secrets directory (`KM_SECRETS_DIR`), absolute; undefined when none is configured. */
export function secretsDir(): string | undefined {
  const dir = process.env.KM_SECRETS_DIR?.trim();
  return dir ? resolve(dir) : undefined;
}

/** Where a `{ file: }` reference points on this worker: absolute as given, relative under the secrets directory. */
export function secretFilePath(file: string): string {
  return isAbsolute(file) ? file : resolve(secretsDir() ?? process.cwd(), file);
}

const onWorker = () => `on the worker ${workerIdentity()}`;

export function resolveSecret(ref: SecretRef, field: string): string {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') {
      throw new SecretResolutionError(`${field}: environment variable ${ref.env} is not set ${onWorker()}`);
    }
    return value;
  }
  if ('propertiesFile' in ref) {
    // Re-read on the worker at every connection: the password never travels through Temporal.
    try {
      return ref.property ? propertyFromPropertiesFile(ref.propertiesFile, ref.property) : passwordFromPropertiesFile(ref.propertiesFile);
    } catch (e) {
      if (e instanceof PropertiesFileError) throw new SecretResolutionError(`${field}: ${e.message} (${onWorker()})`);
      throw e;
    }
  }
  const path = secretFilePath(ref.file);
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    const dir = secretsDir();
    const where = isAbsolute(ref.file)
      ? ''
      : ` (${path}: relative to ${dir ? `the secrets directory KM_SECRETS_DIR=${dir}` : `the working directory ${process.cwd()}, no KM_SECRETS_DIR set`})`;
    throw new SecretResolutionError(`${field}: cannot read file ${ref.file}${where} ${onWorker()} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
