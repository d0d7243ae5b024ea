/**
 * The migration spec: one zod schema for everything an operator configures. Parsed by the CLI, passed
 * (with defaults applied) as the migration workflow's input. It never holds a secret: SASL passwords are
 * only *references* (an environment variable or a file), resolved on the worker at connection time.
 * Documented by examples/demo.yaml, which the demo runs.
 */
import { ROLLBACK_WINDOW_HELP, rollbackWindowMs } from './rollbackWindow';
import { z } from 'zod';

const hostPort = z.string().regex(/^[A-Za-z0-9._\-[\]:]+:\d{1,5}$/, { message: 'expected host:port, e.g. "broker-1:9092"' });

/**
 * A secret is named, never given: `{ env: VAR }`, `{ file: PATH }`, or `{ propertiesFile: PATH }` (the
 * password of the `sasl.jaas.config` in a Kafka client properties file, see src/config/kafkaProperties.ts).
 */
export const secretRefSchema = z
  .union([
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') }),
    z.strictObject({ file: z.string().min(1, 'expected a file path') }),
    z.strictObject({
      propertiesFile: z.string().min(1, 'expected a properties file path'),
      /** A password property of the file (e.g. ssl.keystore.password); absent = the sasl.jaas.config password. */
      property: z.string().min(1).optional(),
    }),
  ])
  .describe('a secret reference');

const saslSchema = z.strictObject({
  mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).default('PLAIN'),
  username: z.string().min(1, 'expected the SASL username'),
  password: z.unknown().transform((value, ctx) => {
    if (typeof value === 'string') {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a reference { env: VAR } or { file: PATH }, not an inline password (secrets must never be part of the spec)',
      });
      return z.NEVER;
    }
    const parsed = secretRefSchema.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: 'expected a reference { env: VAR } or { file: PATH }' });
      return z.NEVER;
    }
    return parsed.data;
  }),
});

/** A secret given inline is refused with the same message everywhere (`key`, `keyPassword`, store passwords). */
const secretRefField = (what: string) =>
  z.unknown().transform((value, ctx) => {
    const parsed = secretRefSchema.safeParse(value);
    if (!parsed.success) {
      const inline = typeof value === 'string' ? ', not an inline value (secrets must never be part of the spec)' : '';
      ctx.addIssue({ code: 'custom', message: `expected a reference { env: VAR } or { file: PATH } to ${what}${inline}` });
      return z.NEVER;
    }
    return parsed.data;
  });

/** A PKCS12 (or PEM) key or trust store on the worker; JKS is refused with how to convert it (src/kafka/tlsStores.ts). */
const storeSchema = z.strictObject({
  /** Path on the worker; a relative one is under the worker's secrets directory, like a `{ file: }` reference. */
  file: z.string().min(1, 'expected the store file path'),
  /** Absent: recognised from the file's first bytes. */
  type: z.enum(['PKCS12', 'PEM', 'JKS']).optional(),
  password: secretRefField('the store password').optional(),
  keyPassword: secretRefField('the private key password').optional(),
});

/**
 * TLS of an SSL / SASL_SSL connection (src/kafka/tlsOptions.ts). Certificates and keys are files (or
 * variables) on the worker, named by reference; none of their content is part of the spec.
 */
export const kafkaTlsSchema = z
  .strictObject({
    /** PEM CA certificate(s) that signed the brokers' certificates; absent = Node's public CAs. */
    ca: secretRefField('a PEM CA certificate file').optional(),
    /** mTLS: the client certificate (PEM) and its private key. */
    cert: secretRefField('a PEM client certificate file').optional(),
    key: secretRefField('a PEM private key file').optional(),
    keyPassword: secretRefField('the private key password').optional(),
    truststore: storeSchema.optional(),
    keystore: storeSchema.optional(),
    /** false: accept a broker certificate that does not name the broker's address (still signed by the CA). */
    verifyHostname: z.boolean().default(true),
  })
  .superRefine((t, ctx) => {
    if (t.ca && t.truststore) ctx.addIssue({ code: 'custom', path: ['truststore'], message: 'expected either tls.ca or tls.truststore, not both' });
    if ((t.cert || t.key) && t.keystore)
      ctx.addIssue({ code: 'custom', path: ['keystore'], message: 'expected either tls.cert/tls.key or tls.keystore, not both' });
    if (t.cert && !t.key) ctx.addIssue({ code: 'custom', path: ['key'], message: 'expected the private key of tls.cert (a reference to a PEM key file)' });
    if (t.key && !t.cert) ctx.addIssue({ code: 'custom', path: ['cert'], message: 'expected the client certificate that belongs to tls.key' });
    for (const name of ['truststore', 'keystore'] as const) {
      if (t[name]?.type === 'JKS') {
        ctx.addIssue({
          code: 'custom',
          path: [name, 'type'],
          message: `JKS stores cannot be read; convert it to PKCS12: keytool -importkeystore -srckeystore ${t[name].file} -srcstoretype JKS -destkeystore ${t[name].file.replace(/\.jks$/i, '')}.p12 -deststoretype PKCS12`,
        });
      }
    }
  });

export const securityProtocols = ['PLAINTEXT', 'SASL_PLAINTEXT', 'SSL', 'SASL_SSL'] as const;

const connectionShape = {
  bootstrapServers: z.array(hostPort).min(1, 'expected at least one bootstrap server'),
  securityProtocol: z.enum(securityProtocols).default('PLAINTEXT'),
  sasl: saslSchema.optional(),
  /** SSL / SASL_SSL only: CA, client certificate (mTLS), hostname verification. */
  tls: kafkaTlsSchema.optional(),
  clientId: z.string().min(1).default('kafka-migrate'),
  /** Connect / request timeouts for this cluster, in ms. */
  connectionTimeoutMs: z.number().int().positive().default(5000),
  requestTimeoutMs: z.number().int().positive().default(30000),
  /** The Kafka client properties file these settings were read from (merged by loadSpecFile; explicit fields win). */
  propertiesFile: z.string().min(1).optional(),
};

/** SASL settings are required exactly when the protocol is a SASL one. */
function checkSaslMatchesProtocol(c: { securityProtocol: string; sasl?: unknown; tls?: unknown }, ctx: z.RefinementCtx): void {
  const needsSasl = c.securityProtocol === 'SASL_PLAINTEXT' || c.securityProtocol === 'SASL_SSL';
  if (needsSasl && !c.sasl) {
    ctx.addIssue({ code: 'custom', path: ['sasl'], message: `expected SASL settings (mechanism, username, password) for ${c.securityProtocol}` });
  }
  if (!needsSasl && c.sasl) {
    ctx.addIssue({ code: 'custom', path: ['sasl'], message: `expected no SASL settings with securityProtocol ${c.securityProtocol} (use SASL_PLAINTEXT)` });
  }
  if (c.tls && !c.securityProtocol.endsWith('SSL')) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: `expected securityProtocol SSL or SASL_SSL with tls settings, not ${c.securityProtocol}` });
  }
}

const connectionSchema = z.strictObject(connectionShape).superRefine(checkSaslMatchesProtocol);

const versionString = z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'expected a Kafka version such as "3.4" or "0.9.0"');

/** Target constraints; a profile gives defaults, the spec may override each field. */
export const profileOverridesSchema = z.strictObject({
  supportedVersions: z.strictObject({ min: versionString, max: versionString }).optional(),
  securityProtocols: z.array(z.enum(securityProtocols)).min(1).optional(),
  supportsAcls: z.boolean().optional(),
  managedConnect: z.boolean().optional(),
  managedSchemaRegistry: z.boolean().optional(),
  /** Topic config keys the target does not accept; dropped when topics are created. */
  unsupportedTopicConfigs: z.array(z.string()).optional(),
});

const nameRules = z.strictObject({
  prefix: z.array(z.string().min(1)).default([]),
  regex: z.array(z.string().min(1)).default([]),
  names: z.array(z.string().min(1)).default([]),
});

const businessSystemSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name of letters, digits and dashes'),
  priority: z.enum(['core', 'non-core']).default('non-core'),
  topics: nameRules.default({ prefix: [], regex: [], names: [] }),
  groups: nameRules.default({ prefix: [], regex: [], names: [] }),
});

export const migrationSpecSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected 1-63 lower-case letters, digits or dashes (it names the workflows)'),
    source: connectionSchema,
    target: z
      .strictObject({
        ...connectionShape,
        profile: z.enum(['automq', 'kafka']).default('automq'),
        profileOverrides: profileOverridesSchema.default({}),
        /** Rated capacity of the target, checked against the source's measured peak. */
        capacity: z
          .strictObject({
            writeMBps: z.number().positive().default(100),
            readMBps: z.number().positive().default(200),
            maxPartitions: z.number().int().positive().default(10000),
          })
          .default({ writeMBps: 100, readMBps: 200, maxPartitions: 10000 }),
        replicationFactor: z.number().int().positive().optional(),
        existingTopicPolicy: z.enum(['fail', 'adopt-if-empty']).default('fail'),
      })
      .superRefine(checkSaslMatchesProtocol),
    scope: z
      .strictObject({
        /** Regexes of topic names to migrate; empty means every non-internal topic. */
        topics: z.array(z.string()).default([]),
        excludeTopics: z.array(z.string()).default([]),
        groups: z.array(z.string()).default([]),
        excludeGroups: z.array(z.string()).default([]),
        /** Inactive topics and unclaimed groups are left out unless named here. */
        includeInactive: z.array(z.string()).default([]),
        /**
         * Topics created on the source in scope after the plan was made: `propose` puts them in an extra batch
         * that the operator approves; `ignore` leaves them out. Either way they are reported, never dropped silently.
         */
        newTopics: z.enum(['propose', 'ignore']).default('propose'),
        /** How often the source is checked for new in-scope topics while batches run. */
        newTopicsCheckSeconds: z.number().positive('expected a positive number of seconds').max(86400, 'expected at most 86400 seconds (a day)').default(300),
      })
      .default({ topics: [], excludeTopics: [], groups: [], excludeGroups: [], includeInactive: [], newTopics: 'propose', newTopicsCheckSeconds: 300 }),
    businessSystems: z.array(businessSystemSchema).default([]),
    thresholds: z
      .strictObject({
        inactiveDays: z.number().positive().default(7),
        capacitySampleSeconds: z.number().positive().max(3600).default(10),
        capacityWarnRatio: z.number().gt(0).lt(1).default(0.7),
        /** A batch is ready for cutover when every partition's lag is under these. */
        readyMaxLagRecords: z.number().int().nonnegative().default(1000),
        readyMaxLagSeconds: z.number().nonnegative().default(30),
        /** Source end offsets must stand still this long after producersStopped. */
        quietPeriodSeconds: z.number().nonnegative().default(5),
      })
      .default({
        inactiveDays: 7,
        capacitySampleSeconds: 10,
        capacityWarnRatio: 0.7,
        readyMaxLagRecords: 1000,
        readyMaxLagSeconds: 30,
        quietPeriodSeconds: 5,
      }),
    batching: z
      .strictObject({
        maxTopics: z.number().int().positive().default(100),
        maxPartitions: z.number().int().positive().default(1000),
        maxBytes: z.number().positive().default(1e12),
      })
      .default({ maxTopics: 100, maxPartitions: 1000, maxBytes: 1e12 }),
    copy: z
      .strictObject({
        /** Bytes/s for the whole migration, to protect the source; 0 = unthrottled. */
        throttleBytesPerSecond: z.number().nonnegative().default(0),
        /** Partitions handled by one copy activity; several activities share a batch across workers. */
        partitionsPerActivity: z.number().int().positive().default(8),
        maxBatchBytes: z
          .number()
          .int()
          .positive()
          .default(4 * 1024 * 1024),
        /** A copy activity runs in rounds of this length, then reports progress to its workflow. */
        roundSeconds: z.number().positive().max(3600).default(30),
        /** A worker that stops heartbeating this long is presumed dead and its partitions move on. */
        heartbeatTimeoutSeconds: z.number().positive().max(600).default(20),
      })
      .default({ throttleBytesPerSecond: 0, partitionsPerActivity: 8, maxBatchBytes: 4 * 1024 * 1024, roundSeconds: 30, heartbeatTimeoutSeconds: 20 }),
    cutover: z
      .strictObject({
        strategy: z.enum(['producers-first', 'consumers-first']).default('producers-first'),
        fenceWithAcl: z.boolean().default(false),
        deleteTargetTopicsOnAbort: z.boolean().default(false),
        /** After a batch's clients moved: how long it can be rolled back (reverse sync); absent = off (src/config/rollbackWindow.ts). */
        rollbackWindow: z
          .string()
          .refine((v) => rollbackWindowMs(v) !== undefined, ROLLBACK_WINDOW_HELP)
          .optional(),
        /**
         * The principal the source's authorizer gives the migrator, when the tool cannot know it (client-certificate
         * authentication: the certificate's subject after ssl.principal.mapping.rules). A rollback window's fence
         * denies every other writer; default: User:<sasl username>, or User:ANONYMOUS on PLAINTEXT.
         */
        migratorPrincipal: z
          .string()
          .regex(/^[A-Za-z]+:.+$/, 'expected a Kafka principal such as User:CN=kafka-migrate,O=example')
          .optional(),
      })
      .default({ strategy: 'producers-first', fenceWithAcl: false, deleteTargetTopicsOnAbort: false }),
    reports: z.strictObject({ dir: z.string().default('reports') }).default({ dir: 'reports' }),
    workflow: z
      .strictObject({
        /**
         * A batch workflow continues as new (carrying its state) at the next safe point once its history holds
         * this many events, far below Temporal's 51,200 cap. Tests lower it to force continue-as-new everywhere.
         */
        continueAsNewAfterEvents: z
          .number()
          .int('expected a whole number of events')
          .min(1, 'expected at least 1')
          .max(40000, 'expected at most 40000 (Temporal caps a run at 51,200 events)')
          .default(4000),
      })
      .default({ continueAsNewAfterEvents: 4000 }),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.businessSystems.forEach((s, i) => {
      if (seen.has(s.name))
        ctx.addIssue({ code: 'custom', path: ['businessSystems', i, 'name'], message: `expected a unique name, "${s.name}" is used twice` });
      seen.add(s.name);
      for (const kind of ['topics', 'groups'] as const) {
        s[kind].regex.forEach((r, j) => checkRegex(r, ['businessSystems', i, kind, 'regex', j], ctx));
      }
    });
    for (const key of ['topics', 'excludeTopics', 'groups', 'excludeGroups'] as const) {
      spec.scope[key].forEach((r, j) => checkRegex(r, ['scope', key, j], ctx));
    }
  });

function checkRegex(pattern: string, path: (string | number)[], ctx: z.RefinementCtx): void {
  try {
    new RegExp(pattern);
  } catch (e) {
    ctx.addIssue({ code: 'custom', path, message: `expected a valid regular expression (${(e as Error).message})` });
  }
}

export type MigrationSpec = z.output<typeof migrationSpecSchema>;
export type MigrationSpecInput = z.input<typeof migrationSpecSchema>;
export type ClusterConnection = z.output<typeof connectionSchema>;
export type TargetConnection = MigrationSpec['target'];
export type SecretRef = z.output<typeof secretRefSchema>;
export type KafkaTls = z.output<typeof kafkaTlsSchema>;
export type KafkaStore = z.output<typeof storeSchema>;
export type BusinessSystemRule = z.output<typeof businessSystemSchema>;
export type ProfileOverrides = z.output<typeof profileOverridesSchema>;

/** Thrown for a spec that does not validate; its message lists every field with what was expected. */
export class SpecError extends Error {
  constructor(
    readonly issues: string[],
    source = 'spec',
  ) {
    super(`invalid ${source}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'SpecError';
  }
}

/** One line per issue: `field.path: expected ..., got ...` (a value under a password field is never echoed). */
export function formatSpecIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length
      ? issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
          .join('.')
          .replace(/\.\[/g, '[')
      : '(root)';
    // A whole `sasl` block given as text ("user:pass") is as secret as a password field.
    const secret = /password|sasl$/i.test(path);
    const input = (issue as { input?: unknown }).input;
    let got = '';
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    // A custom issue's message names the value itself; its input is the parent object, not the field.
    if (!secret && input !== undefined && issue.code !== 'custom') got = `, got ${describeValue(input)}`;
    else if (input === undefined && issue.code === 'invalid_type') got = ', got nothing';
    return `${path}: ${issue.message.replace(/^Invalid (input|option): /, '')}${got}`;
  });
}

function describeValue(v: unknown): string {
  const json = JSON.stringify(v);
  if (json === undefined) return String(v);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** Validates a spec object (from YAML/JSON); throws SpecError naming every bad field. */
export function parseSpec(raw: unknown, source = 'spec'): MigrationSpec {
  const result = migrationSpecSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new SpecError(formatSpecIssues(result.error), source);
  return result.data;
}
