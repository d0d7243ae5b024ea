/**
 * The workflow side of operator actions: validates each action against what the workflow is waiting for,
 * records every outcome (accepted or refused, who, when, why) and hands accepted ones to the phase code.
 * Workflow-safe: deterministic, no I/O.
 */
import { condition, setDefaultSignalHandler, setHandler } from '@temporalio/workflow';
import type { Decision } from '../types';
import {
  actionSignals,
  OPERATOR_ACTIONS,
  operatorActionUpdate,
  type OperatorAction,
  type OperatorActionName,
  type OperatorActionPayload,
  type OperatorActionResult,
} from './messages';

const REASON_REQUIRED: OperatorActionName[] = ['overridePreflight', 'rejectPlan', 'abort', 'acceptMismatches'];
const MAX_REFUSED_KEPT = 200;

/** Extra, phase-specific validation (e.g. of an edited plan); returns an error message or undefined. */
export type ActionValidator = (action: OperatorAction) => string | undefined;

export interface Wait {
  actions: OperatorActionName[];
  reason: string;
  batch?: number;
  validate?: ActionValidator;
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
      (action: OperatorAction): OperatorActionResult => {
        this.accept(action);
        return { accepted: true, action: action.action, phase: this.phase(), message: `${action.action} accepted in phase ${this.phase()}` };
      },
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
    this.received = undefined;
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

  private accept(action: OperatorAction): void {
    this.decisions.push({
      kind: action.action,
      by: action.by,
      at: this.now(),
      phase: this.phase(),
      accepted: true,
      comment: action.comment,
      reason: action.reason,
      ...(action.batch !== undefined ? { batch: action.batch } : {}),
    });
    if (action.action === 'abort') this.abortAction = action;
    else {
      this.received = action;
      // The wait is satisfied: a repeated action (e.g. a retried CLI call) is refused, not taken twice.
      this.waiting = undefined;
    }
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
