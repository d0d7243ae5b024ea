/**
 * APIs an old source may lack: DescribeConfigs and DescribeAcls arrived in Kafka 0.11, so a 0.9 or 0.10 broker cannot
 * answer them. kafkajs then refuses the request before sending it (UNSUPPORTED_VERSION, "The Kafka server does not
 * support the requested API version"). Callers fall back to what can be known and say so; nothing fails for it.
 */
export function isUnsupportedApi(e: unknown): boolean {
  const err = e as { type?: string; name?: string; message?: string; cause?: unknown };
  if (err?.type === 'UNSUPPORTED_VERSION' || /does not support the requested API version/.test(err?.message ?? '')) return true;
  // kafkajs sends DescribeConfigs/DescribeAcls to the controller, which Metadata v0 (Kafka 0.9) does not name.
  if (err?.name === 'KafkaJSMetadataNotLoaded' && /Topic metadata not loaded/.test(err.message ?? '')) return true;
  return err?.cause !== undefined && err.cause !== e && isUnsupportedApi(err.cause);
}

/** fn's result, or `fallback` when the broker does not have the API fn calls. */
export async function unlessUnsupported<T>(fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUnsupportedApi(e)) return fallback;
    throw e;
  }
}
