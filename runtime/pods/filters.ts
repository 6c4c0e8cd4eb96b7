// podman's `pod ps --filter` (libpod 4.3's pod filters): each key narrows the list (keys AND), a key's
// values widen it (values OR). Names and IDs match as regular expressions, as podman matches them.
import type { Container } from '../containers/store.js';
import { invalid } from '../errors.js';
import { matchLabels, parseUntil, type Filters } from '../filters.js';
import type { PodDetails } from '../api/pods.js';

export const POD_LIST_FILTERS = ['ctr-ids', 'ctr-names', 'ctr-number', 'ctr-status', 'id', 'name', 'status', 'label', 'until', 'network'] as const;

const POD_STATUSES = ['stopped', 'running', 'paused', 'exited', 'dead', 'created', 'degraded'];
const CTR_STATUSES = ['created', 'running', 'paused', 'stopped', 'exited', 'unknown'];

/** A value as Go's regexp.MatchString takes it (an invalid pattern matches nothing). */
function matches(pattern: string, s: string): boolean {
  try {
    return new RegExp(pattern).test(s);
  } catch {
    return false;
  }
}

const byId = (a: Container, b: Container) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The container states podman's ctr-status filter names. */
function ctrStatus(c: Container): string {
  if (c.state === 'dead') return 'exited';
  if (c.state === 'restarting') return 'running';
  if (c.state === 'initialized') return 'created';
  return c.state;
}

/**
 * A predicate for the pods `filters` keep; podman's errors for an unknown key or status. `networksOf`
 * names the networks a pod's infra container is on.
 */
export function podFilter(filters: Filters, networksOf: (d: PodDetails) => string[]): (d: PodDetails) => boolean {
  const tests: ((d: PodDetails) => boolean)[] = [];
  for (const [key, values] of Object.entries(filters)) {
    if (!values?.length) continue;
    switch (key) {
      case 'id':
        tests.push((d) => values.some((v) => matches(v, d.pod.id)));
        break;
      case 'name':
        tests.push((d) => values.some((v) => matches(v, d.pod.name)));
        break;
      case 'label':
        tests.push((d) => matchLabels(d.pod.spec.labels, values));
        break;
      case 'status':
        for (const v of values) if (!POD_STATUSES.includes(v)) throw invalid(`${v} is not a valid pod status`);
        tests.push((d) => values.includes(d.status.toLowerCase()));
        break;
      // podman 4.3 looks at the pod's first container (by ID) only, for its ID as for its name.
      case 'ctr-ids':
        tests.push((d) => {
          const first = [...d.members].sort(byId)[0];
          return !!first && values.some((v) => matches(v, first.id));
        });
        break;
      case 'ctr-names':
        tests.push((d) => {
          const first = [...d.members].sort(byId)[0];
          return !!first && values.some((v) => matches(v, first.name));
        });
        break;
      case 'ctr-number':
        tests.push((d) => values.some((v) => /^-?\d+$/.test(v) && Number(v) === d.members.length));
        break;
      case 'ctr-status':
        for (const v of values) if (!CTR_STATUSES.includes(v)) throw invalid(`${v} is not a valid status`);
        tests.push((d) => d.members.some((c) => values.some((v) => (v === 'stopped' ? 'exited' : v) === ctrStatus(c))));
        break;
      case 'until': {
        const limit = Math.min(...values.map(parseUntil));
        tests.push((d) => Date.parse(d.pod.created) < limit);
        break;
      }
      case 'network':
        tests.push((d) => networksOf(d).some((n) => values.includes(n)));
        break;
      default:
        throw invalid(`${key} is an invalid filter`);
    }
  }
  return (d) => tests.every((t) => t(d));
}
