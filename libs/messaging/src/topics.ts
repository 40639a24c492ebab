import { BusError, BusErrorCode } from './bus-error';

const SEGMENT = /^[A-Za-z0-9._-]+$/;

function checkSegment(what: string, value: string): string {
  if (typeof value !== 'string' || !SEGMENT.test(value)) {
    throw new BusError(BusErrorCode.INVALID_ARGUMENT, `${what} "${String(value)}" may only contain letters, digits, '.', '_' and '-'`, {
      details: { [what]: value },
    });
  }
  return value;
}

/** `persistent://tenant/namespace/name`. */
export function topicName(tenant: string, namespace: string, name: string): string {
  return `persistent://${checkSegment('tenant', tenant)}/${checkSegment('namespace', namespace)}/${checkSegment('name', name)}`;
}

/** The logical topics of the system. */
export type LogicalTopic = 'experiments' | 'jobs' | 'chunks' | 'events';

export const LOGICAL_TOPICS: readonly LogicalTopic[] = ['experiments', 'jobs', 'chunks', 'events'];

export interface TopicsScope {
  /** Isolates one client from another. Default `public`. */
  tenant?: string;
  /** Default `default`. */
  namespace?: string;
  /** Jobs may be per site: `jobs-<site>`. Default: one shared `jobs` topic. */
  site?: string;
}

/** Full topic names of the logical topics for one tenant/namespace: `new Topics({ tenant: 'acme' }).jobs`. */
export class Topics implements Readonly<Record<LogicalTopic, string>> {
  readonly tenant: string;
  readonly namespace: string;
  readonly experiments: string;
  readonly jobs: string;
  readonly chunks: string;
  readonly events: string;

  constructor(scope: TopicsScope = {}) {
    this.tenant = scope.tenant ?? 'public';
    this.namespace = scope.namespace ?? 'default';
    const full = (name: string): string => topicName(this.tenant, this.namespace, name);
    this.experiments = full('experiments');
    this.jobs = full(scope.site === undefined ? 'jobs' : `jobs-${checkSegment('site', scope.site)}`);
    this.chunks = full('chunks');
    this.events = full('events');
  }

  /** The full name of a logical topic. */
  get(name: LogicalTopic): string {
    if (!LOGICAL_TOPICS.includes(name)) {
      throw new BusError(BusErrorCode.INVALID_ARGUMENT, `unknown logical topic "${String(name)}"`, { details: { name } });
    }
    return this[name];
  }
}
