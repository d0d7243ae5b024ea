/**
 * Security: the source's protocol is one the migration can read over, the configured credentials
 * authenticate, and the target answers over a protocol its profile accepts.
 */
import { effectiveProfile } from '../../config/profiles';
import type { ClusterConnection } from '../../config/spec';
import { withAdmin, type ClusterRole } from '../../kafka/clients';
import { describeCluster, isAuthenticationError, toKafkaFailure } from '../../kafka/errors';
import { SecretResolutionError } from '../../config/secrets';
import { tlsHandshakeProblem } from '../../kafka/tlsOptions';
import type { CheckResult, Verdict } from '../../types/preflight';
import { errorText, result, worstVerdict, type CheckInput } from './common';

const ID = 'security';
const TITLE = 'Security protocols and credentials';

interface Login {
  ok: boolean;
  /** 'auth' for rejected credentials or an unreadable secret: a configuration fault. */
  fault?: 'auth' | 'secret' | 'network' | 'tls';
  error?: string;
  brokers?: number;
}

/** Connects and describes the cluster with the configured protocol and credentials. */
async function login(conn: ClusterConnection, role: ClusterRole): Promise<Login> {
  try {
    const brokers = await withAdmin(conn, role, async (admin) => (await admin.describeCluster()).brokers.length, {
      retries: 1,
      clientIdSuffix: 'preflight-security',
    });
    return { ok: true, brokers };
  } catch (e) {
    if (e instanceof SecretResolutionError) return { ok: false, fault: 'secret', error: e.message };
    const tls = tlsHandshakeProblem(e, conn, role);
    if (tls) return { ok: false, fault: tls.kind === 'certificate' ? 'tls' : 'network', error: tls.message };
    if (isAuthenticationError(e)) return { ok: false, fault: 'auth', error: errorText(e) };
    return { ok: false, fault: 'network', error: errorText(e) };
  }
}

const READABLE_EXPLANATION: Record<string, string> = {
  SSL: 'point source.bootstrapServers at a listener of a protocol the profile allows, or widen target.profileOverrides',
  SASL_SSL: 'point source.bootstrapServers at a listener of a protocol the profile allows, or widen target.profileOverrides',
};

/** Which TLS settings were used (no file content): shown in the preflight report. */
function tlsEvidence(tls: NonNullable<ClusterConnection['tls']>) {
  return {
    trust: tls.truststore ? 'tls.truststore' : tls.ca ? 'tls.ca' : "Node's public CAs",
    clientCertificate: tls.keystore ? 'tls.keystore' : tls.cert ? 'tls.cert' : 'none',
    verifyHostname: tls.verifyHostname,
  };
}

/** Activity: security protocols of both clusters against the profile, and a real login with the given credentials. */
export async function checkSecurity(input: CheckInput): Promise<CheckResult> {
  const { spec } = input;
  const profile = effectiveProfile(spec.target);
  const src = spec.source;
  const tgt = spec.target;
  const sourceProtocolOk = profile.sourceSecurityProtocols.includes(src.securityProtocol);
  const targetProtocolOk = profile.securityProtocols.includes(tgt.securityProtocol);
  const [sourceLogin, targetLogin] = await Promise.all([login(src, 'source'), login(tgt, 'target')]);

  // Source unreachable for a network reason: not something this check can judge; retry the activity.
  if (!sourceLogin.ok && sourceLogin.fault === 'network') {
    throw toKafkaFailure(new Error(sourceLogin.error), src, 'source', 'checkSecurity');
  }

  const problems: string[] = [];
  const fixes: string[] = [];
  const verdicts: Verdict[] = [];
  if (!sourceProtocolOk) {
    verdicts.push('fail');
    problems.push(
      `the source is reached over ${src.securityProtocol}, which the ${profile.name} profile cannot read from (allowed: ${profile.sourceSecurityProtocols.join(', ')})`,
    );
    fixes.push(READABLE_EXPLANATION[src.securityProtocol] ?? `use one of ${profile.sourceSecurityProtocols.join(', ')} for source.securityProtocol`);
  }
  if (!sourceLogin.ok) {
    verdicts.push('fail');
    problems.push(`the source credentials do not work on the ${describeCluster(src, 'source')}: ${sourceLogin.error}`);
    fixes.push(
      sourceLogin.fault === 'secret'
        ? 'make the secret or TLS file named in the error readable, and valid, on every worker'
        : sourceLogin.fault === 'tls'
          ? 'fix the source.tls setting named in the error'
          : `check source.sasl.username, source.sasl.mechanism (the listener must enable ${src.sasl?.mechanism ?? 'it'}) and the password the reference points to`,
    );
  }
  if (!targetProtocolOk) {
    verdicts.push('fail');
    problems.push(`the target is configured with ${tgt.securityProtocol}, but the ${profile.name} profile accepts ${profile.securityProtocols.join(', ')}`);
    fixes.push(`set target.securityProtocol to one of ${profile.securityProtocols.join(', ')} (and use the matching listener in target.bootstrapServers)`);
  }
  if (!targetLogin.ok) {
    verdicts.push('fail');
    problems.push(`the target does not answer over ${tgt.securityProtocol} at ${tgt.bootstrapServers.join(',')}: ${targetLogin.error}`);
    fixes.push(
      targetLogin.fault === 'network'
        ? 'check target.bootstrapServers, that the listener speaks the configured protocol, and firewalls between the worker and the target'
        : targetLogin.fault === 'tls'
          ? 'fix the target.tls setting named in the error'
          : 'check the target credentials (target.sasl)',
    );
  }

  const evidence = {
    profile: profile.name,
    source: {
      securityProtocol: src.securityProtocol,
      allowedProtocols: profile.sourceSecurityProtocols,
      user: src.sasl?.username,
      mechanism: src.sasl?.mechanism,
      ...(src.tls ? { tls: tlsEvidence(src.tls) } : {}),
      authenticated: sourceLogin.ok,
      ...(sourceLogin.ok ? { brokers: sourceLogin.brokers } : { error: sourceLogin.error }),
    },
    target: {
      securityProtocol: tgt.securityProtocol,
      allowedProtocols: profile.securityProtocols,
      reachable: targetLogin.ok,
      ...(targetLogin.ok ? { brokers: targetLogin.brokers } : { error: targetLogin.error }),
    },
  };
  const verdict = worstVerdict(verdicts);
  const summary =
    verdict === 'pass'
      ? `source over ${src.securityProtocol}${src.tls?.cert || src.tls?.keystore ? ' with a client certificate' : ''}${src.sasl ? ` as ${src.sasl.username} (${src.sasl.mechanism}) authenticated` : ''}; target reachable over ${tgt.securityProtocol}`
      : problems.join('; ');
  return result(ID, TITLE, verdict, summary, evidence, fixes.length ? `${fixes.join('. ')}.` : undefined);
}
