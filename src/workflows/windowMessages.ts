/**
 * Messages of the rollback window workflow (src/workflows/rollbackWindow.ts): the checked update the CLI's
 * `rollback` and `finalize` use, its status query, and the signal that tells the migration a window closed.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { WindowState, WindowStatus } from '../types/rollback';

export const WINDOW_ACTIONS = ['rollback', 'finalize', 'retry'] as const;
export type WindowActionName = (typeof WINDOW_ACTIONS)[number];

export interface WindowAction {
  action: WindowActionName;
  by: string;
  reason?: string;
  comment?: string;
  /** ISO time after which the window must not take the action (the CLI's RPC deadline). */
  deadline?: string;
}

export interface WindowActionResult {
  accepted: true;
  action: WindowActionName;
  state: WindowState;
  message: string;
  evidence?: unknown;
}

export const windowActionUpdate = defineUpdate<WindowActionResult, [WindowAction]>('windowAction');

export const windowStatusQuery = defineQuery<WindowStatus>('windowStatus');

/** Window -> migration: the window of a batch closed (rolled back, finalized or expired). */
export interface WindowClosed {
  batch: number;
  state: WindowState;
  at: string;
  reports?: Record<string, string>;
}
export const windowClosedSignal = defineSignal<[WindowClosed]>('windowClosed');

/** The window workflow of a batch: `<batch workflow id>-window`. */
export function windowWorkflowId(batchWorkflowId: string): string {
  return `${batchWorkflowId}-window`;
}
