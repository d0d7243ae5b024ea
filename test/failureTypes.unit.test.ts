/**
 * Every failure type thrown anywhere in src/ is listed in src/types/failureTypes.ts with the retryability it is
 * thrown with, and every listed type is thrown somewhere. The thrown types are read with the TypeScript type
 * checker (a constant, a conditional between constants or `e.type` of a NonRetryableCopyError all resolve to
 * their literal types); a throw whose type is not a known literal fails the test too.
 */
import path from 'node:path';
import ts from 'typescript';
import { FAILURE_TYPES, NON_RETRYABLE_FAILURE_TYPES, RETRYABLE_FAILURE_TYPES, isFailureType } from '../src/types/failureTypes';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

interface ThrowSite {
  where: string;
  /** The literal types the site may throw; undefined when the checker cannot tell. */
  types?: string[];
  nonRetryable: boolean;
  inWorkflow: boolean;
}

function literalTypes(checker: ts.TypeChecker, expr: ts.Expression | undefined): string[] | undefined {
  if (!expr) return undefined;
  const t = checker.getTypeAtLocation(expr);
  const parts = t.isUnion() ? t.types : [t];
  const out: string[] = [];
  for (const p of parts) {
    if (!p.isStringLiteral()) return undefined;
    out.push(p.value);
  }
  return out;
}

function booleanLiteral(expr: ts.Expression | undefined): boolean | undefined {
  if (!expr) return false;
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (expr.kind === ts.SyntaxKind.FalseKeyword) return false;
  return undefined;
}

function objectProperty(obj: ts.Expression | undefined, name: string): ts.Expression | undefined {
  if (!obj || !ts.isObjectLiteralExpression(obj)) return undefined;
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === name) return p.initializer;
    if (ts.isShorthandPropertyAssignment(p) && p.name.text === name) return p.name;
  }
  return undefined;
}

/** The sites that create an ApplicationFailure (or a NonRetryableCopyError) in the program's files under `dir`. */
export function throwSites(program: ts.Program, dir: string): ThrowSite[] {
  const checker = program.getTypeChecker();
  const sites: ThrowSite[] = [];
  for (const file of program.getSourceFiles()) {
    if (file.isDeclarationFile || !path.resolve(file.fileName).startsWith(dir + path.sep)) continue;
    const rel = path.relative(ROOT, file.fileName);
    const inWorkflow = rel.split(path.sep).includes('workflows');
    const add = (node: ts.Node, typeExpr: ts.Expression | undefined, nonRetryable: boolean | undefined) => {
      const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
      const where = `${rel}:${line + 1}`;
      if (nonRetryable === undefined) throw new Error(`${where}: nonRetryable is not a literal true/false`);
      sites.push({ where, types: literalTypes(checker, typeExpr), nonRetryable, inWorkflow });
    };
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        ts.isIdentifier(node.expression.expression) &&
        node.expression.expression.text === 'ApplicationFailure'
      ) {
        const method = node.expression.name.text;
        const args = node.arguments;
        if (method === 'nonRetryable') add(node, args[1], true);
        else if (method === 'retryable') add(node, args[1], false);
        else if (method === 'create') add(node, objectProperty(args[0], 'type'), booleanLiteral(objectProperty(args[0], 'nonRetryable')));
        else if (method === 'fromError') add(node, objectProperty(args[1], 'type'), booleanLiteral(objectProperty(args[1], 'nonRetryable')));
      }
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
        const args = node.arguments ?? [];
        if (node.expression.text === 'ApplicationFailure') add(node, args[1], booleanLiteral(args[2]));
        if (node.expression.text === 'NonRetryableCopyError') add(node, args[0], true);
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return sites;
}

function projectProgram(extra?: { fileName: string; text: string }): ts.Program {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const options = { ...parsed.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  if (extra) {
    const { getSourceFile, fileExists, readFile } = host;
    host.getSourceFile = (f, lang, ...rest) =>
      path.resolve(f) === extra.fileName ? ts.createSourceFile(f, extra.text, lang) : getSourceFile(f, lang, ...rest);
    host.fileExists = (f) => path.resolve(f) === extra.fileName || fileExists(f);
    host.readFile = (f) => (path.resolve(f) === extra.fileName ? extra.text : readFile(f));
  }
  return ts.createProgram({ rootNames: extra ? [...parsed.fileNames, extra.fileName] : parsed.fileNames, options, host });
}

let sites: ThrowSite[];
beforeAll(() => {
  sites = throwSites(projectProgram(), SRC);
}, 120_000);

test('the scan finds the throw sites (it is not vacuous)', () => {
  expect(sites.length).toBeGreaterThan(20);
  const thrown = new Set(sites.flatMap((s) => s.types ?? []));
  // One of each way of throwing: nonRetryable(), retryable(), create(), NonRetryableCopyError, e.type of it.
  expect([...thrown]).toEqual(
    expect.arrayContaining(['InvalidReportName', 'KafkaUnavailable', 'GroupActive', 'SourceBatchUnreadable', 'TargetWrittenByOthers']),
  );
});

test('every throw site names its type as a literal (or constants of literal type)', () => {
  expect(sites.filter((s) => !s.types).map((s) => s.where)).toEqual([]);
});

test('every thrown type is listed in src/types/failureTypes.ts', () => {
  const unlisted = sites.flatMap((s) => (s.types ?? []).filter((t) => !isFailureType(t)).map((t) => `${t} (${s.where})`));
  expect(unlisted).toEqual([]);
});

test('every listed type is thrown somewhere (no stale entries)', () => {
  const thrown = new Set(sites.flatMap((s) => s.types ?? []));
  expect(Object.keys(FAILURE_TYPES).filter((t) => !thrown.has(t))).toEqual([]);
});

test('each site throws its type with the retryability and from the place the list says', () => {
  const wrong: string[] = [];
  for (const s of sites) {
    for (const t of s.types ?? []) {
      if (!isFailureType(t)) continue;
      const info = FAILURE_TYPES[t];
      if (info.retryable === s.nonRetryable) wrong.push(`${t} thrown ${s.nonRetryable ? 'non-retryable' : 'retryable'} at ${s.where}`);
      if ((info.thrownBy === 'workflow') !== s.inWorkflow) wrong.push(`${t} thrown outside its place (${info.thrownBy}) at ${s.where}`);
    }
  }
  expect(wrong).toEqual([]);
});

test('the derived lists split the table', () => {
  expect([...NON_RETRYABLE_FAILURE_TYPES, ...RETRYABLE_FAILURE_TYPES].sort()).toEqual(Object.keys(FAILURE_TYPES).sort());
  expect(NON_RETRYABLE_FAILURE_TYPES).not.toContain('KafkaUnavailable');
  expect(NON_RETRYABLE_FAILURE_TYPES).toEqual(
    expect.arrayContaining(['KafkaAuthenticationFailed', 'SourceTopicMissing', 'TargetWrittenByOthers', 'InvalidReportName']),
  );
  expect(NON_RETRYABLE_FAILURE_TYPES).not.toContain('TargetTopicConflict');
});

test('the scan reports a type thrown through a constant that is not listed', () => {
  const fileName = path.join(SRC, '__scanProbe__.ts');
  const text = [
    "import { ApplicationFailure } from '@temporalio/common';",
    "const PROBE = 'ProbeTypeNotListed';",
    'export function probe(flag: boolean): never {',
    "  throw ApplicationFailure.create({ type: flag ? PROBE : 'KafkaUnavailable', message: 'probe' });",
    '}',
    'export function vague(type: string): never {',
    "  throw ApplicationFailure.nonRetryable('probe', type);",
    '}',
  ].join('\n');
  const probe = throwSites(projectProgram({ fileName, text }), SRC).filter((s) => s.where.startsWith(path.join('src', '__scanProbe__.ts')));
  expect(probe).toEqual([
    expect.objectContaining({ types: expect.arrayContaining(['ProbeTypeNotListed', 'KafkaUnavailable']), nonRetryable: false }),
    expect.objectContaining({ types: undefined, nonRetryable: true }),
  ]);
  expect(isFailureType('ProbeTypeNotListed')).toBe(false);
}, 120_000);
