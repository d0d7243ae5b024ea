/**
 * Resolves secret references on the worker, at connection time. The resolved value lives only in the
 * memory of the Kafka client: it is never returned from an activity, logged, or written to a report.
 */
import { readFileSync } from 'node:fs';
import type { SecretRef } from './spec';

export class SecretResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretResolutionError';
  }
}

export function describeSecretRef(ref: SecretRef): string {
  return 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
}

export function resolveSecret(ref: SecretRef, field: string): string {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') {
      throw new SecretResolutionError(`${field}: environment variable ${ref.env} is not set on the worker`);
    }
    return value;
  }
  try {
    return readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new SecretResolutionError(`${field}: cannot read file ${ref.file} on the worker (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
