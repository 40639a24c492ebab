import { createLogger, type Logger } from '@surrogate/core';
import type { Bus, Topics } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { CommandPublisher, eventKind, followEvents, newExperimentId, refusalOf } from '@surrogate/protocol';
import { parseSpec, SpecError, specFromWire, specToWire, type ExperimentSpec } from '@surrogate/spec';
import { ExperimentApiError } from './experiment-api-error';
import { experimentInfo, statusFromWire } from './experiment-info';
import type { ExperimentStatus } from './experiment-status';
import { isEnded } from './experiment-status';
import type { ExperimentStore } from './experiment-store';

/** How long Submit and Cancel wait for the producer's answer when the call sets no deadline. */
export const DEFAULT_ANSWER_TIMEOUT_MS = 30_000;
/** List's page size when the request gives none, and the largest it accepts. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** The longest experiment id Submit accepts. */
export const MAX_EXPERIMENT_ID_LENGTH = 200;
/** The largest spec_text Submit reads (parsed on the producer's event loop). */
export const MAX_SPEC_TEXT_BYTES = 64 * 1024;

export interface ExperimentApiOptions {
  bus: Bus;
  topics: Topics;
  /** The producer's experiment store (the very instance the producer writes, for the memory store). */
  store: ExperimentStore;
  logger?: Logger;
}

/** A Watch in progress. */
export interface ExperimentWatch {
  /** Resolves with `ended` once the terminal event has been handed on, or `closed` after close(). */
  readonly done: Promise<'ended' | 'closed'>;
  /** Stops following (no more events are handed on) and drops the subscription. Idempotent. */
  close(): Promise<void>;
}

const PAGE_TOKEN_PREFIX = 'after:';

/**
 * What the ExperimentService does, free of gRPC: Submit and Cancel publish the same commands as
 * `surrogate submit` and `surrogate cancel` on the experiments topic (the producer handles them
 * like any other) and wait for the producer's answer on the events topic; Get and List read the
 * producer's experiment store; Watch follows the events topic. Refusals are ExperimentApiErrors.
 * Every wait on the events topic is a non-durable subscription of its own, dropped when it ends.
 */
export class ExperimentApi {
  private readonly log: Logger;
  private readonly commands: CommandPublisher;

  constructor(private readonly options: ExperimentApiOptions) {
    this.log = options.logger ?? createLogger({ name: 'experiment-api' });
    this.commands = new CommandPublisher(options.bus, options.topics, this.log);
  }

  /**
   * Checks the spec (SPEC_INVALID with the SpecError's message: field, value, rule), publishes the
   * submit command and waits up to `waitMs` for the producer to accept it (NO_ANSWER otherwise).
   */
  async submit(
    request: v1.ISubmitExperimentRequest,
    waitMs = DEFAULT_ANSWER_TIMEOUT_MS,
  ): Promise<v1.ISubmitExperimentResponse> {
    const text = request.specText ?? '';
    if (!request.spec && text === '')
      throw new ExperimentApiError(
        'BAD_REQUEST',
        "spec is missing: Submit needs the experiment's spec, resolved (spec) or as a spec file's text (spec_text)",
        { details: { field: 'spec' } },
      );
    if (Buffer.byteLength(text) > MAX_SPEC_TEXT_BYTES)
      throw new ExperimentApiError(
        'BAD_REQUEST',
        `spec_text is ${Buffer.byteLength(text)} bytes: at most ${MAX_SPEC_TEXT_BYTES} (a spec travels inside every job and chunk)`,
        { details: { field: 'spec_text', bytes: Buffer.byteLength(text) } },
      );
    if (request.spec && text !== '')
      throw new ExperimentApiError('BAD_REQUEST', 'spec and spec_text are both given: give one of them', {
        details: { field: 'spec_text' },
      });
    let spec: ExperimentSpec;
    try {
      spec = request.spec ? specFromWire(request.spec) : parseSpec(text, 'spec_text');
    } catch (err) {
      if (err instanceof SpecError)
        throw new ExperimentApiError('SPEC_INVALID', err.message, {
          cause: err,
          details: { issues: err.issues },
        });
      throw err;
    }
    const id = request.experimentId ? checkNewId(request.experimentId) : newExperimentId(spec.name);
    if (request.experimentId) {
      const known = await this.options.store.get(id);
      // the producer ignores a submit of these (a redelivery to it): there would be no answer
      if (
        known &&
        (known.status === 'running' || known.status === 'datagen-complete' || known.status === 'succeeded')
      )
        throw new ExperimentApiError(
          'EXPERIMENT_EXISTS',
          `experiment_id = ${id}: the producer holds an experiment of that id (${known.status}); choose another id` +
            (known.status === 'succeeded' ? '' : ', or cancel it first'),
          { details: { experimentId: id, status: known.status } },
        );
    }
    const issuedAtMs = Date.now();
    const answer = await this.ask(
      id,
      'api-submit',
      { experimentId: id, issuedAtMs, submit: { spec: specToWire(spec) } },
      (e) => {
        if (e.accepted) return { accepted: e.accepted };
        const r = refusalOf(e, v1.CommandKind.COMMAND_KIND_SUBMIT, issuedAtMs);
        return r ? { rejected: r } : undefined;
      },
      waitMs,
    );
    if (!answer)
      throw new ExperimentApiError(
        'NO_ANSWER',
        `experiment ${id}: the submit command was published, but the producer did not accept it within ${waitMs} ms (it may still; Get ${id} tells)`,
        { details: { experimentId: id, waitMs } },
      );
    if (answer.rejected)
      throw new ExperimentApiError(
        'SPEC_INVALID',
        `the producer refused experiment ${id} (${answer.rejected.code}): ${answer.rejected.reason}`,
        {
          details: { experimentId: id, code: answer.rejected.code, field: answer.rejected.field },
        },
      );
    this.log.info({ experimentId: id, name: spec.name }, 'experiment submitted through the API');
    return {
      experimentId: id,
      issuedAtMs,
      trainingChunks: answer.accepted?.trainingChunks ?? 0,
      validationChunks: answer.accepted?.validationChunks ?? 0,
    };
  }

  /** The experiment as the producer last stored it; UNKNOWN_EXPERIMENT when it holds none of that id. */
  async get(experimentId: string | null | undefined): Promise<v1.IExperimentInfo> {
    const id = requireId(experimentId);
    const record = await this.options.store.get(id);
    if (!record) throw unknown(id);
    return experimentInfo(record);
  }

  /** A page of the experiments the producer holds, by id. */
  async list(request: v1.IListExperimentsRequest): Promise<v1.IListExperimentsResponse> {
    const size = request.pageSize ?? 0;
    if (size > MAX_PAGE_SIZE)
      throw new ExperimentApiError(
        'BAD_REQUEST',
        `page_size = ${size}: must be at most ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE})`,
        {
          details: { field: 'page_size', value: size },
        },
      );
    let status: ExperimentStatus | undefined;
    const wireStatus = request.status ?? v1.ExperimentStatus.EXPERIMENT_STATUS_UNSPECIFIED;
    if (wireStatus !== v1.ExperimentStatus.EXPERIMENT_STATUS_UNSPECIFIED) {
      status = statusFromWire(wireStatus);
      if (!status)
        throw new ExperimentApiError(
          'BAD_REQUEST',
          `status = ${wireStatus}: not an ExperimentStatus this server knows (0 to 5)`,
          {
            details: { field: 'status', value: wireStatus },
          },
        );
    }
    const after = request.pageToken ? decodePageToken(request.pageToken) : undefined;
    const page = await this.options.store.list({
      status,
      after,
      limit: size === 0 ? DEFAULT_PAGE_SIZE : size,
    });
    return {
      experiments: page.records.map(experimentInfo),
      nextPageToken: page.next === undefined ? '' : encodePageToken(page.next),
    };
  }

  /**
   * Follows the experiment's events from now on, handing each to `onEvent`, until its terminal one
   * (model ready, failed, cancelled, a refused submission; a refused cancel is not one).
   * UNKNOWN_EXPERIMENT for an id the producer does not hold; EXPERIMENT_ENDED, naming the end, for
   * one that has ended already (Get tells its final state).
   */
  async watch(
    experimentId: string | null | undefined,
    onEvent: (event: v1.ExperimentEvent) => void,
  ): Promise<ExperimentWatch> {
    const id = requireId(experimentId);
    let ready = false;
    let over = false;
    const early: v1.ExperimentEvent[] = [];
    let finish!: (how: 'ended' | 'closed') => void;
    const done = new Promise<'ended' | 'closed'>((resolve) => (finish = resolve));
    const deliver = (event: v1.ExperimentEvent): void => {
      if (over) return;
      onEvent(event);
      if (isTerminal(event)) {
        over = true;
        finish('ended');
      }
    };
    // subscribed before the store is read: an end between the two is an event seen, not one missed
    const follower = await followEvents(
      this.options.bus,
      this.options.topics.events,
      `api-watch-${id}`,
      (event) => {
        if (event.experimentId !== id) return;
        if (ready) deliver(event);
        else early.push(event);
      },
    );
    try {
      const record = await this.options.store.get(id);
      if (!record && early.length === 0) throw unknown(id);
      if (record && isEnded(record.status) && !early.some((e) => isTerminal(e) || e.accepted))
        throw new ExperimentApiError(
          'EXPERIMENT_ENDED',
          `experiment ${id} has already ended (${record.status}); there is nothing more to watch (Get tells its final state)`,
          { details: { experimentId: id, status: record.status } },
        );
    } catch (err) {
      await follower.stop();
      throw err;
    }
    ready = true;
    for (const event of early.splice(0)) deliver(event);
    void done.then(() => follower.stop());
    return {
      done,
      close: async () => {
        over = true;
        finish('closed');
        await follower.stop();
      },
    };
  }

  /**
   * Publishes the cancel command and waits up to `waitMs` for the producer's answer: `cancelled`,
   * or the refusal of this very command (matched by its issued_at_ms): UNKNOWN_EXPERIMENT,
   * EXPERIMENT_ENDED. NO_ANSWER without one.
   */
  async cancel(
    request: v1.ICancelExperimentRequest,
    waitMs = DEFAULT_ANSWER_TIMEOUT_MS,
  ): Promise<v1.ICancelExperimentResponse> {
    const id = requireId(request.experimentId);
    const reason = request.reason || 'cancelled through the experiment API';
    const issuedAtMs = Date.now();
    const answer = await this.ask(
      id,
      'api-cancel',
      { experimentId: id, issuedAtMs, cancel: { reason } },
      (e) => {
        if (eventKind(e) === 'cancelled') return { cancelled: e.cancelled as v1.IExperimentCancelled };
        const r = refusalOf(e, v1.CommandKind.COMMAND_KIND_CANCEL, issuedAtMs);
        return r ? { rejected: r } : undefined;
      },
      waitMs,
    );
    if (!answer)
      throw new ExperimentApiError(
        'NO_ANSWER',
        `experiment ${id}: the cancel command was published, but the producer did not answer within ${waitMs} ms (it may still)`,
        { details: { experimentId: id, waitMs } },
      );
    if (answer.rejected) {
      const r = answer.rejected;
      const details = { experimentId: id, code: r.code };
      const why = r.reason || `the producer refused the cancel (${r.code})`;
      if (r.code === 'UNKNOWN_EXPERIMENT')
        throw new ExperimentApiError('UNKNOWN_EXPERIMENT', why, { details });
      throw new ExperimentApiError('EXPERIMENT_ENDED', why, { details });
    }
    this.log.info({ experimentId: id, reason }, 'experiment cancelled through the API');
    return { cancelled: true, ended: false, code: '', reason: answer.cancelled?.reason ?? reason };
  }

  /**
   * Publishes a command of experiment `id` and waits up to `waitMs` for the first event of that
   * experiment `match` answers for (followed before publishing, so the answer cannot be missed).
   */
  private async ask<T>(
    id: string,
    purpose: string,
    command: v1.IExperimentCommand,
    match: (event: v1.ExperimentEvent) => T | undefined,
    waitMs: number,
  ): Promise<T | undefined> {
    let answer!: (t: T | undefined) => void;
    const answered = new Promise<T | undefined>((resolve) => (answer = resolve));
    const follower = await followEvents(
      this.options.bus,
      this.options.topics.events,
      `${purpose}-${id}`,
      (event) => {
        if (event.experimentId !== id) return;
        const t = match(event);
        if (t !== undefined) answer(t);
      },
    );
    const timer = setTimeout(() => answer(undefined), waitMs);
    try {
      await this.commands.publish(command);
      return await answered;
    } finally {
      clearTimeout(timer);
      await follower.stop();
    }
  }
}

/** The end of a watch: model ready, failed, cancelled, or a refused submission. */
export function isTerminal(event: v1.IExperimentEvent): boolean {
  if (event.modelReady || event.failed || event.cancelled) return true;
  return !!event.rejected && event.rejected.command !== v1.CommandKind.COMMAND_KIND_CANCEL;
}

/** An experiment id a call names (Get, Watch, Cancel): present, and of the shape Submit allows. */
function requireId(id: string | null | undefined): string {
  if (!id)
    throw new ExperimentApiError('BAD_REQUEST', 'experiment_id is missing: name the experiment', {
      details: { field: 'experiment_id' },
    });
  return checkNewId(id);
}

/**
 * An experiment id is at most MAX_EXPERIMENT_ID_LENGTH characters, without control characters or
 * surrounding spaces. It travels as the key of the commands published for it, so an unbounded one
 * would make a message the broker refuses; the refusal quotes only its beginning.
 */
function checkNewId(id: string): string {
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f]/.exec(id);
  if (id.length > MAX_EXPERIMENT_ID_LENGTH || control || id.trim() !== id) {
    const shown = id.length > 64 ? `${JSON.stringify(id.slice(0, 64))}… (${id.length} characters)` : JSON.stringify(id);
    throw new ExperimentApiError(
      'BAD_REQUEST',
      `experiment_id = ${shown}: must be at most ${MAX_EXPERIMENT_ID_LENGTH} characters, without control characters or surrounding spaces`,
      { details: { field: 'experiment_id', length: id.length } },
    );
  }
  return id;
}

function unknown(id: string): ExperimentApiError {
  return new ExperimentApiError(
    'UNKNOWN_EXPERIMENT',
    `the producer holds no experiment ${id} (never submitted, or forgotten after its retention)`,
    {
      details: { experimentId: id },
    },
  );
}

function encodePageToken(after: string): string {
  return Buffer.from(PAGE_TOKEN_PREFIX + after, 'utf8').toString('base64url');
}

function decodePageToken(token: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!text.startsWith(PAGE_TOKEN_PREFIX) || text.length === PAGE_TOKEN_PREFIX.length)
    throw new ExperimentApiError(
      'BAD_REQUEST',
      `page_token = ${token}: not a token this server gave (pass next_page_token as it came)`,
      {
        details: { field: 'page_token', value: token },
      },
    );
  return text.slice(PAGE_TOKEN_PREFIX.length);
}
