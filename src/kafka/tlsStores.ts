/**
 * Reads the TLS material a Kafka connection names (src/config/spec.ts `tls`) on the worker: PEM files, PKCS12
 * stores (node-forge), and refuses JKS with the keytool command that converts it. Every error names the spec
 * field, the file and what was expected; no key or password ever appears in one.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { resolveSecret, secretFilePath, SecretResolutionError } from '../config/secrets';
import type { KafkaStore, SecretRef } from '../config/spec';

/** A TLS setting that cannot be used as given: a configuration fault, handled like an unreadable secret. */
export class TlsSettingsError extends SecretResolutionError {
  constructor(message: string) {
    super(message);
    this.name = 'TlsSettingsError';
  }
}

export interface KeyPair {
  cert: string;
  key: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const JKS_MAGIC = 0xfeedfeed;

/** The text of a `{ file: }` / `{ env: }` / `{ propertiesFile: }` reference (a PEM document). */
function refText(ref: SecretRef, field: string): string {
  const text = resolveSecret(ref, field);
  return 'file' in ref ? text : text.replace(/\\n/g, '\n');
}

function refWhere(ref: SecretRef): string {
  if ('file' in ref) return `file ${secretFilePath(ref.file)}`;
  if ('env' in ref) return `environment variable ${ref.env}`;
  return `${ref.property ?? 'sasl.jaas.config'} of ${ref.propertiesFile}`;
}

/** A PEM block with its base64 body wrapped again: properties files join continued lines into one. */
function rewrapPem(block: string): string {
  const m = /^(-----BEGIN [A-Z0-9 ]+-----)([\s\S]*?)(-----END [A-Z0-9 ]+-----)$/.exec(block.trim());
  if (!m) return block;
  const body = m[2].replace(/\s+/g, '');
  return `${m[1]}\n${body.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n${m[3]}\n`;
}

/** One or more PEM certificates, each parsed (a garbled CA fails here, not in a TLS handshake). */
export function pemCertificates(text: string, field: string, where: string): string[] {
  const blocks = (text.match(PEM_CERT) ?? []).map(rewrapPem);
  if (!blocks.length) throw new TlsSettingsError(`${field}: ${where} holds no certificate; expected PEM ("-----BEGIN CERTIFICATE-----")`);
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (e) {
      throw new TlsSettingsError(`${field}: certificate ${i + 1} in ${where} is not a valid X.509 certificate (${(e as Error).message})`);
    }
  }
  return blocks;
}

/** A PEM private key, decrypted with its password when it has one; checked against its certificate. */
function checkedKey(keyPem: string, passphrase: string | undefined, certPem: string, field: string, where: string): string {
  let key;
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) });
  } catch (e) {
    const msg = (e as Error).message;
    if (/passphrase|decrypt|bad decrypt/i.test(msg)) {
      throw new TlsSettingsError(
        `${field}: the private key in ${where} is encrypted and ${passphrase === undefined ? 'no key password is set (keyPassword)' : 'the key password does not decrypt it'}`,
      );
    }
    throw new TlsSettingsError(`${field}: ${where} holds no usable private key; expected PEM ("-----BEGIN PRIVATE KEY-----") (${msg})`);
  }
  if (!new X509Certificate(certPem).checkPrivateKey(key)) {
    throw new TlsSettingsError(`${field}: the private key in ${where} does not belong to the client certificate (${subject(certPem)})`);
  }
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function subject(certPem: string): string {
  return new X509Certificate(certPem).subject.replace(/\n/g, ', ');
}

/** CA certificates from `tls.ca`. */
export function readCa(ref: SecretRef, field: string): string[] {
  return pemCertificates(refText(ref, field), field, refWhere(ref));
}

/** The client certificate (chain) and key from `tls.cert` / `tls.key` / `tls.keyPassword`. */
export function readKeyPair(certRef: SecretRef, keyRef: SecretRef, keyPasswordRef: SecretRef | undefined, field: string): KeyPair {
  const chain = pemCertificates(refText(certRef, `${field}.cert`), `${field}.cert`, refWhere(certRef));
  const passphrase = keyPasswordRef ? resolveSecret(keyPasswordRef, `${field}.keyPassword`) : undefined;
  const keyText = refText(keyRef, `${field}.key`);
  const keyBlock = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/.exec(keyText)?.[0];
  const key = checkedKey(keyBlock && !keyBlock.includes('Proc-Type') ? rewrapPem(keyBlock) : keyText, passphrase, chain[0], `${field}.key`, refWhere(keyRef));
  return { cert: chain.join('\n'), key };
}

type StoreKind = 'PKCS12' | 'PEM' | 'JKS';

function readStore(store: KafkaStore, field: string): { bytes: Buffer; kind: StoreKind; path: string } {
  const path = secretFilePath(store.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TlsSettingsError(
      `${field}.file: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}); expected a ${store.type ?? 'PKCS12 or PEM'} store`,
    );
  }
  const sniffed: StoreKind =
    bytes.length >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC ? 'JKS' : bytes.toString('latin1', 0, 64).includes('-----BEGIN') ? 'PEM' : 'PKCS12';
  if (sniffed === 'JKS' || store.type === 'JKS') {
    throw new TlsSettingsError(
      `${field}: ${path} is a Java KeyStore (JKS), which kafka-migrate cannot read; convert it to PKCS12 with ` +
        `keytool -importkeystore -srckeystore ${path} -srcstoretype JKS -destkeystore ${path.replace(/\.jks$/i, '')}.p12 -deststoretype PKCS12 ` +
        `and point ${field} at the .p12 file (type PKCS12, same password)`,
    );
  }
  if (store.type && store.type !== sniffed) {
    throw new TlsSettingsError(`${field}: ${path} is not a ${store.type} store (its content looks like ${sniffed}); expected type ${sniffed} or another file`);
  }
  return { bytes, kind: sniffed, path };
}

interface Pkcs12Content {
  certs: string[];
  keys: string[];
}

function openPkcs12(bytes: Buffer, password: string, field: string, path: string): Pkcs12Content {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary'))), false, password);
  } catch (e) {
    const msg = (e as Error).message;
    if (/MAC could not be verified|Invalid password/i.test(msg)) {
      throw new TlsSettingsError(`${field}.password: it does not open ${path} (PKCS12 integrity check failed); expected the store's password`);
    }
    throw new TlsSettingsError(`${field}: ${path} is not a readable PKCS12 store (${msg}); expected a .p12/.pfx file`);
  }
  const bags = (type: string) => p12.getBags({ bagType: type })[type] ?? [];
  const certs = bags(forge.pki.oids.certBag).flatMap((b) => (b.cert ? [forge.pki.certificateToPem(b.cert)] : []));
  const keys = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag), ...bags(forge.pki.oids.keyBag)].flatMap((b) => (b.key ? [forge.pki.privateKeyToPem(b.key)] : []));
  return { certs, keys };
}

function storePassword(store: KafkaStore, field: string): string {
  // Kafka allows a PKCS12 store without a password; PKCS12 then uses the empty one.
  return store.password ? resolveSecret(store.password, `${field}.password`) : '';
}

/** CA certificates of `tls.truststore` (PKCS12 or PEM). */
export function readTruststore(store: KafkaStore, field: string): string[] {
  const { bytes, kind, path } = readStore(store, field);
  if (kind === 'PEM') return pemCertificates(bytes.toString('utf8'), field, `file ${path}`);
  const { certs } = openPkcs12(bytes, storePassword(store, field), field, path);
  if (!certs.length) throw new TlsSettingsError(`${field}: ${path} holds no trusted certificate; expected the CA certificate(s) of the brokers`);
  return certs;
}

/** The client certificate and key of `tls.keystore` (PKCS12, or PEM holding both). */
export function readKeystore(store: KafkaStore, field: string): KeyPair {
  const { bytes, kind, path } = readStore(store, field);
  const keyPassword = store.keyPassword ? resolveSecret(store.keyPassword, `${field}.keyPassword`) : undefined;
  if (kind === 'PEM') {
    const text = bytes.toString('utf8');
    const chain = pemCertificates(text, field, `file ${path}`);
    const keyPem = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/.exec(text)?.[0];
    if (!keyPem) throw new TlsSettingsError(`${field}: ${path} holds no private key; expected the client key and certificate in one PEM file`);
    return { cert: chain.join('\n'), key: checkedKey(keyPem, keyPassword, chain[0], field, `file ${path}`) };
  }
  const { certs, keys } = openPkcs12(bytes, storePassword(store, field), field, path);
  if (keys.length !== 1) {
    throw new TlsSettingsError(`${field}: ${path} holds ${keys.length} private keys; expected exactly one client key with its certificate`);
  }
  const leaf = certs.find((c) => new X509Certificate(c).checkPrivateKey(createPrivateKey(keys[0])));
  if (!leaf) throw new TlsSettingsError(`${field}: ${path} holds no certificate for its private key; expected the client certificate beside its key`);
  return { cert: [leaf, ...certs.filter((c) => c !== leaf)].join('\n'), key: keys[0] };
}
