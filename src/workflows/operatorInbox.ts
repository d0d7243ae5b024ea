/**
 * The workflow side of operator actions: validates each action against what the workflow is waiting for,
 * records every outcome (accepted or refused, who, when, why) and hands accepted ones to the phase code.
 * Workflow-safe: deterministic, no I/O.
 */
import { ApplicationFailure, CancellationScope, condition, setDefaultSignalHandler, setHandler } from '@temporalio/workflow';
import type { Decision } from '../types';
import {
  ACTION_REFUSED,
  actionSignals,
  CANCELLED_FROM_TEMPORAL,
  CHECKED_ACTIONS,
  OPERATOR_ACTIONS,
  operatorActionUpdate,
  type OperatorAction,
  type OperatorActionName,
  type OperatorActionPayload,
  type OperatorActionResult,
} from './messages';

const REASON_REQUIRED: OperatorActionName[] = ['overridePreflight', 'rejectPlan', 'abort', 'acceptMismatches', 'excludeTopic'];
const MAX_REFUSED_KEPT = 200;

/** Extra, phase-specific validation (e.g. of an edited plan); returns an error message or undefined. */
export type ActionValidator = (action: OperatorAction) => string | undefined;

export interface Wait {
  actions: OperatorActionName[];
  reason: string;
  batch?: number;
  validate?: ActionValidator;
  /** Wait for the listed actions only, even when an abort has already been taken (e.g. blocked while rolling back). */
  ignoreAbort?: boolean;
}

/** The outcome of a checked action's check (see CHECKED_ACTIONS). */
export interface Verdict {
  accepted: boolean;
  /** One line: what the check found ("source quiet for 2 s on 12 partitions", "group g still has 2 members"). */
  message: string;
  evidence?: unknown;
}

export interface InboxSnapshot {
  decisions: Decision[];
  abortAction?: OperatorAction;
  refusedCount: number;
}

export class OperatorInbox {
  readonly decisions: Decision[] = [];
  private waiting: Wait | undefined;
  private received: OperatorAction | undefined;
  private abortAction: OperatorAction | undefined;
  private refusedCount = 0;
  /** Checked actions sent as updates whose caller waits for the check's verdict. */
  private readonly waitingOn = new Set<OperatorAction>();
  /** Checked actions whose check has run, until their update handler has answered. */
  private readonly verdicts = new Map<OperatorAction, Verdict>();

  /** Set when abort may no longer roll back (e.g. clients may already write to the target). */
  abortBlockedReason: () => string | undefined = () => undefined;

  constructor(
    private readonly phase: () => string,
    private readonly now: () => string,
    private readonly terminal: () => boolean,
  ) {}

  /** Registers the signal handlers and the checked update. Call once, first thing in the workflow. */
  install(): void {
    for (const name of OPERATOR_ACTIONS) {
      setHandler(actionSignals[name], (payload: OperatorActionPayload) => {
        const action = { ...(payload ?? {}), action: name } as OperatorAction;
        const error = this.check(action);
        if (error) this.refuse(action, error);
        else this.accept(action);
      });
    }
    // A signal under a name no handler knows (a typo in the UI or a script) is refused and recorded, not
    // buffered unseen forever.
    setDefaultSignalHandler((name: string, ...args: unknown[]) => {
      const payload = args[0] && typeof args[0] === 'object' ? (args[0] as OperatorActionPayload) : ({} as OperatorActionPayload);
      const action = { ...payload, action: name } as unknown as OperatorAction;
      this.refuse(action, `unknown action "${name}"; expected one of ${OPERATOR_ACTIONS.join(', ')}`);
    });
    setHandler(
      operatorActionUpdate,
      // Handler waits run outside the root scope: a cancellation from Temporal is turned into an abort (see
      // installCancellation), it must not fail an operator's update halfway.
      (action: OperatorAction): Promise<OperatorActionResult> => CancellationScope.nonCancellable(() => this.handleUpdate(action)),
      {
        // A validator must not change workflow state: a refused update leaves no trace in history, and the
        // CLI gets the reason back synchronously. (A refused *signal* is recorded, as nobody else sees it.)
        validator: (action: OperatorAction) => {
          const error = this.check(action);
          if (error) throw new Error(error);
        },
      },
    );
  }

  /**
   * Turns a cancellation requested from Temporal (UI "Request Cancellation", the client API) into an abort, with
   * the same rules and record. The phase code must run inside CancellationScope.nonCancellable for this to work:
   * the root scope's cancellation then reaches only this handler.
   */
  installCancellation(): void {
    CancellationScope.current().cancelRequested.catch(() => {
      const action: OperatorAction = { ...CANCELLED_FROM_TEMPORAL, action: 'abort' };
      const error = this.check(action);
      if (error) this.refuse(action, `cancelled from Temporal: ${error}`);
      else this.accept(action);
    });
  }

  private async handleUpdate(action: OperatorAction): Promise<OperatorActionResult> {
    const taken = this.accept(action, true);
    const base = { accepted: true as const, action: action.action, phase: this.phase() };
    if (!CHECKED_ACTIONS.includes(action.action)) return { ...base, message: `${action.action} accepted in phase ${this.phase()}` };
    // The caller learns the verdict of the check itself, not that the action was queued for checking.
    await condition(() => this.verdicts.has(taken));
    const verdict = this.verdicts.get(taken)!;
    this.verdicts.delete(taken);
    this.waitingOn.delete(taken);
    if (!verdict.accepted) {
      throw ApplicationFailure.create({
        type: ACTION_REFUSED,
        message: `${action.action} refused: ${verdict.message}`,
        details: [verdict.evidence ?? null],
        nonRetryable: true,
      });
    }
    return { ...base, phase: this.phase(), message: `${action.action} accepted: ${verdict.message}`, evidence: verdict.evidence };
  }

  /**
   * Records the check's verdict on a checked action (as its decision) and answers the update waiting for it.
   * A refused action reopens nothing by itself: the phase code expects the action again.
   */
  settle(action: OperatorAction, verdict: Verdict): void {
    this.decisions.push({
      kind: action.action,
      by: action.by,
      at: this.now(),
      phase: this.phase(),
      accepted: verdict.accepted,
      comment: action.comment,
      reason: verdict.accepted ? (action.reason ? `${action.reason} (${verdict.message})` : verdict.message) : verdict.message,
      ...(action.batch !== undefined ? { batch: action.batch } : {}),
    });
    if (this.waitingOn.has(action)) this.verdicts.set(action, verdict);
  }

  get waitingFor(): Wait | undefined {
    return this.waiting;
  }

  get aborted(): OperatorAction | undefined {
    return this.abortAction;
  }

  /** Why an action cannot be taken now, or undefined when it can. */
  check(action: OperatorAction): string | undefined {
    if (!action || typeof action !== 'object') return 'expected a payload object with at least "by"';
    if (!OPERATOR_ACTIONS.includes(action.action)) return `unknown action "${String(action.action)}"; expected one of ${OPERATOR_ACTIONS.join(', ')}`;
    if (typeof action.by !== 'string' || !action.by.trim()) return `${action.action}: "by" is required (who takes this action)`;
    if (REASON_REQUIRED.includes(action.action) && (typeof action.reason !== 'string' || !action.reason.trim())) {
      return `${action.action}: "reason" is required`;
    }
    if (action.deadline !== undefined) {
      const deadline = Date.parse(action.deadline);
      if (Number.isNaN(deadline)) return `${action.action}: "deadline" must be an ISO time, got "${String(action.deadline)}"`;
      // Workflow time is the time of this workflow task: an action that waited for a worker past its deadline is void.
      if (Date.now() > deadline) return `${action.action}: expired at ${action.deadline} before a worker took it; it was not applied (send it again)`;
    }
    if (this.terminal()) return `${action.action}: the migration has already ended (phase ${this.phase()})`;
    if (action.action === 'abort') {
      if (this.abortAction) return 'abort: already being aborted';
      const blocked = this.abortBlockedReason();
      return blocked ? `abort: refused: ${blocked}` : undefined;
    }
    const wait = this.waiting;
    if (!wait || !wait.actions.includes(action.action)) {
      const expecting = wait ? `it waits for ${wait.actions.join(' or ')} (${wait.reason})` : 'it is not waiting for an operator action';
      return `${action.action}: not expected in phase ${this.phase()}: ${expecting}`;
    }
    if (wait.batch !== undefined && action.batch !== undefined && action.batch !== wait.batch) {
      return `${action.action}: it is meant for batch ${action.batch}, but batch ${wait.batch} is the one waiting`;
    }
    return wait.validate?.(action);
  }

  /** Starts accepting the listed actions without blocking (work goes on meanwhile); see take(). */
  expect(wait: Wait): void {
    this.waiting = wait;
    // An action the new wait also accepts stays (it was expected from the step's entry on; see batch.ts stepWait).
    if (this.received && !wait.actions.includes(this.received.action)) this.received = undefined;
  }

  /** True when an expected action (or abort) has arrived. */
  get hasAction(): boolean {
    return this.received !== undefined || this.abortAction !== undefined;
  }

  /** The action take() would return, without ending the wait. */
  get pending(): OperatorAction | undefined {
    return this.abortAction ?? this.received;
  }

  /** The arrived action (abort first), ending the wait; undefined when none arrived yet. */
  take(): OperatorAction | undefined {
    const got = this.abortAction ?? this.received;
    if (got) {
      this.waiting = undefined;
      this.received = undefined;
    }
    return got;
  }

  /** Waits for one of the listed actions (or abort); returns the accepted action. */
  async waitFor(wait: Wait): Promise<OperatorAction> {
    this.expect(wait);
    if (wait.ignoreAbort) {
      await condition(() => this.received !== undefined);
      const got = this.received!;
      this.received = undefined;
      this.waiting = undefined;
      return got;
    }
    await condition(() => this.hasAction);
    return this.take()!;
  }

  /** State to carry across continueAsNew. */
  snapshot(): InboxSnapshot {
    return { decisions: this.decisions, abortAction: this.abortAction, refusedCount: this.refusedCount };
  }

  restore(s: InboxSnapshot | undefined): void {
    if (!s) return;
    this.decisions.push(...s.decisions);
    this.abortAction = s.abortAction;
    this.refusedCount = s.refusedCount;
  }

  /** Records a decision that the workflow took on its own (e.g. an automatic check outcome). */
  record(decision: Omit<Decision, 'at' | 'phase'>): void {
    this.decisions.push({ ...decision, at: this.now(), phase: this.phase() });
  }

  /** Accepts an action that passed check(); returns the object the phase code will take. */
  private accept(payload: OperatorAction, answeredByUpdate = false): OperatorAction {
    // receivedAt is the workflow's own record of arrival (the write pause counts from it), never the caller's.
    const action: OperatorAction = { ...payload, receivedAt: this.now() };
    if (CHECKED_ACTIONS.includes(action.action)) {
      if (answeredByUpdate) this.waitingOn.add(action);
    } else {
      this.decisions.push({
        kind: action.action,
        by: action.by,
        at: action.receivedAt!,
        phase: this.phase(),
        accepted: true,
        comment: action.comment,
        reason: action.reason,
        ...(action.batch !== undefined ? { batch: action.batch } : {}),
        ...(action.topic !== undefined ? { topic: action.topic } : {}),
      });
    }
    if (action.action === 'abort') this.abortAction = action;
    else {
      this.received = action;
      // The wait is satisfied: a repeated action (e.g. a retried CLI call) is refused, not taken twice.
      this.waiting = undefined;
    }
    return action;
  }

  private refuse(action: OperatorAction, error: string): void {
    this.refusedCount++;
    if (this.refusedCount > MAX_REFUSED_KEPT) return; // keep state bounded against a flood of bad signals
    this.decisions.push({
      kind: String(action?.action ?? 'unknown'),
      by: typeof action?.by === 'string' ? action.by : '(unknown)',
      at: this.now(),
      phase: this.phase(),
      accepted: false,
      comment: action?.comment,
      reason: error,
    });
  }
}
