/**
 * Reachability: clients are redirected from the bootstrap address to the brokers the metadata advertises,
 * so every advertised broker of both clusters must answer from the worker (TCP connect + ApiVersions).
 */
import type { ClusterRole } from '../../kafka/clients';
import { ApplicationFailure } from '@temporalio/common';
import type { CheckResult, Verdict } from '../../types/preflight';
import { advertisedBrokers, bootstrapEndpoints, endpointName, probeEndpoints, type BrokerProbe } from './brokers';
import { connectionOf, errorText, result, worstVerdict, type CheckInput } from './common';

const ID = 'reachability';
const TITLE = 'Reachability of every advertised broker';

interface ClusterReach {
  verdict: Verdict;
  source: 'metadata' | 'bootstrap';
  metadataError?: string;
  brokers: { broker: string; reachable: boolean; latencyMs?: number; error?: string }[];
  unreachable: string[];
}

function summarize(probes: BrokerProbe[]): ClusterReach['brokers'] {
  return probes.map((p) =>
    p.ok
      ? { broker: endpointName(p.endpoint), reachable: true, latencyMs: p.latencyMs }
      : { broker: endpointName(p.endpoint), reachable: false, error: p.error },
  );
}

async function reach(input: CheckInput, role: ClusterRole): Promise<ClusterReach> {
  const conn = connectionOf(input.spec, role);
  let endpoints;
  try {
    endpoints = (await advertisedBrokers(input.spec, role, 'checkReachability')).brokers;
  } catch (e) {
    // Bad credentials or an unreadable secret: a configuration fault (non-retryable), not a reachability verdict.
    if (e instanceof ApplicationFailure && e.nonRetryable) throw e;
    // No metadata: say which bootstrap addresses answer at all.
    const probes = await probeEndpoints(conn, bootstrapEndpoints(conn));
    const brokers = summarize(probes);
    return {
      verdict: 'fail',
      source: 'bootstrap',
      metadataError: errorText(e),
      brokers,
      unreachable: brokers.filter((b) => !b.reachable).map((b) => b.broker),
    };
  }
  const brokers = summarize(await probeEndpoints(conn, endpoints));
  const unreachable = brokers.filter((b) => !b.reachable).map((b) => b.broker);
  return { verdict: unreachable.length ? 'fail' : 'pass', source: 'metadata', brokers, unreachable };
}

/** Activity: TCP + ApiVersions round trip to every broker both clusters advertise. */
export async function checkReachability(input: CheckInput): Promise<CheckResult> {
  const [source, target] = await Promise.all([reach(input, 'source'), reach(input, 'target')]);
  const verdict = worstVerdict([source.verdict, target.verdict]);
  const evidence = { source, target };
  const describe = (role: ClusterRole, r: ClusterReach) =>
    r.source === 'bootstrap'
      ? `${role} metadata unavailable (${r.metadataError})${r.unreachable.length ? `; unreachable bootstrap: ${r.unreachable.join(', ')}` : ''}`
      : r.unreachable.length
        ? `${role} brokers unreachable: ${r.brokers
            .filter((b) => !b.reachable)
            .map((b) => `${b.broker} (${b.error})`)
            .join(', ')}`
        : `all ${r.brokers.length} ${role} broker(s) answer`;
  const summary = `${describe('source', source)}; ${describe('target', target)}`;
  return result(
    ID,
    TITLE,
    verdict,
    summary,
    evidence,
    verdict === 'pass'
      ? undefined
      : 'Every address a cluster advertises (advertised.listeners) must resolve and be reachable from every worker: fix DNS, routes, firewalls or security groups for the listed host:port, or correct advertised.listeners on those brokers.',
  );
}
