/** The Temporal connection flags the CLI and the worker share (see src/config/temporalConnection.ts). */
import type { Command } from 'commander';

export function addTemporalConnectionOptions(program: Command): Command {
  return program
    .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")')
    .option('--profile <name>', 'profile of the temporal.toml config file (env TEMPORAL_PROFILE, default "default")')
    .option('--config-file <path>', 'temporal.toml config file (env TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml)')
    .option('--tls', 'connect over TLS (on by default with any other --tls-* flag or an API key; env TEMPORAL_TLS)')
    .option('--tls-ca-path <file>', "CA certificate (PEM) of the server's certificate (env TEMPORAL_TLS_SERVER_CA_CERT_PATH)")
    .option('--tls-cert-path <file>', 'client certificate (PEM) for mTLS (env TEMPORAL_TLS_CLIENT_CERT_PATH)')
    .option('--tls-key-path <file>', 'private key (PEM) of the client certificate (env TEMPORAL_TLS_CLIENT_KEY_PATH)')
    .option('--tls-server-name <name>', 'server name to verify instead of the address host (env TEMPORAL_TLS_SERVER_NAME)')
    .option('--api-key-file <file>', 'file holding an API key, e.g. for Temporal Cloud (env TEMPORAL_API_KEY; never on the command line)');
}
