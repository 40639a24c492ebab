import { v1 } from '@surrogate/proto';

/**
 * The producer's refusal of one command, when `event` is it: an ExperimentRejected naming that
 * command's `issuedAtMs` and kind. A submit's refusal is any that is not a cancel's (a command the
 * producer could not read names no kind), so that a refused cancel never answers a submit.
 */
export function refusalOf(event: v1.IExperimentEvent, command: v1.CommandKind, issuedAtMs: number): v1.IExperimentRejected | undefined {
  const r = event.rejected;
  if (!r || Number(r.commandIssuedAtMs) !== issuedAtMs) return undefined;
  const cancel = v1.CommandKind.COMMAND_KIND_CANCEL;
  return (r.command === cancel) === (command === cancel) ? r : undefined;
}
