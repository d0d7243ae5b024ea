/**
 * A TLS-terminating proxy in front of the Temporal dev server, which speaks plaintext gRPC only: it requires a
 * client certificate signed by the given CA (mTLS), offers HTTP/2 by ALPN as gRPC needs, and forwards the
 * decrypted bytes to the dev server unchanged. Handshake failures are recorded for the test to inspect.
 */
import { connect, type AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';

export interface TlsProxy {
  address: string;
  /** Subjects (CN) of the client certificates of the connections it accepted. */
  acceptedClients: Set<string>;
  /** Handshakes it refused, with the reason. */
  refused: string[];
  close(): Promise<void>;
}

export async function startTlsProxy(options: { key: Buffer; cert: Buffer; ca: Buffer; upstream: string }): Promise<TlsProxy> {
  const [upHost, upPort] = options.upstream.split(':');
  const acceptedClients = new Set<string>();
  const refused: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer(
    { key: options.key, cert: options.cert, ca: options.ca, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (socket) => {
      sockets.add(socket);
      const cn = socket.getPeerCertificate()?.subject?.CN;
      if (cn) acceptedClients.add(String(cn));
      const upstream = connect(Number(upPort), upHost);
      socket.pipe(upstream).pipe(socket);
      const end = () => {
        socket.destroy();
        upstream.destroy();
        sockets.delete(socket);
      };
      socket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    },
  );
  server.on('tlsClientError', (e) => refused.push(e.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    acceptedClients,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
