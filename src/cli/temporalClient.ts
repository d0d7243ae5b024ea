import { Client, Connection } from '@temporalio/client';
import { temporalSettings, type TemporalSettings } from '../worker/settings';

/** Connects to Temporal for one CLI command; the caller closes it. */
export async function connectClient(overrides: Partial<TemporalSettings> = {}): Promise<{ client: Client; settings: TemporalSettings; close: () => Promise<void> }> {
  const settings = temporalSettings(overrides);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.address, connectTimeout: '5s' });
  } catch (e) {
    throw new CliError(`cannot reach Temporal at ${settings.address} (${(e as Error).message}); start it with "npm run stack:up" or set TEMPORAL_ADDRESS`, EXIT.unavailable);
  }
  return { client: new Client({ connection, namespace: settings.namespace }), settings, close: () => connection.close() };
}

/** Exit codes: 0 ok, 1 failure, 2 bad input, 3 refused by the workflow, 4 not found, 5 Temporal unreachable. */
export const EXIT = { ok: 0, failure: 1, badInput: 2, refused: 3, notFound: 4, unavailable: 5 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
