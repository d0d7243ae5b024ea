/**
 * Resolves secret references on the worker, at connection time. The resolved value lives only in the
 * memory of the Kafka client: it is never returned from an activity, logged, or written to a report.
 */
import { readFileSync } from 'node:fs';
import { passwordFromPropertiesFile, PropertiesFileError } from './kafkaProperties';
import type { SecretRef } from './spec';

export class SecretResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretResolutionError';
  }
}

export function describeSecretRef(ref: SecretRef): string {
  if ('env' in ref) return `environment variable ${ref.env}`;
  return 'file' in ref ? `file ${ref.file}` : `sasl.jaas.config of properties file ${ref.propertiesFile}`;
}

export function resolveSecret(ref: SecretRef, field: string): string {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') {
      throw new SecretResolutionError(`${field}: environment variable ${ref.env} is not set on the worker`);
    }
    return value;
  }
  if ('propertiesFile' in ref) {
    // Re-read on the worker at every connection: the password never travels through Temporal.
    try {
      return passwordFromPropertiesFile(ref.propertiesFile);
    } catch (e) {
      if (e instanceof PropertiesFileError) throw new SecretResolutionError(`${field}: ${e.message} (on the worker)`);
      throw e;
    }
  }
  try {
    return readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new SecretResolutionError(`${field}: cannot read file ${ref.file} on the worker (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
