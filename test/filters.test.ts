// The one filter module (runtime/filters.ts) both API families use: label matching, times, and each
// resource's filter, as dockerd applies them. The end-to-end tests (containers, networks, volumes,
// images, events) drive the same functions through the API.
import { describe, expect, it } from 'vitest';
import {
  containerFilter,
  eventFilter,
  labelFilter,
  matchLabels,
  networkFilter,
  parseEventTime,
  parseUntil,
  searchFilter,
  volumeFilter,
  type FilteredContainer,
} from '../runtime/filters.js';
import { isLive, isUp } from '../runtime/containers/state.js';

const container = (over: Partial<FilteredContainer> = {}): FilteredContainer => ({
  id: 'abc123',
  name: 'web',
  state: 'running',
  exit_code: 0,
  created: '2026-01-02T00:00:00Z',
  image_id: 'sha256:img',
  labels: { app: 'x', tier: '' },
  health: 'none',
  networks: () => ['bridge', 'netid'],
  published: [{ port: 8080, protocol: 'tcp' }],
  exposed: [{ port: 80, protocol: 'tcp' }],
  binds: ['/src', '/dst'],
  ...over,
});
const lookups = {
  imageId: (ref: string) => (ref === 'busybox' ? 'sha256:img' : undefined),
  createdOf: (ref: string) => (ref === 'old' ? '2026-01-01T00:00:00Z' : '2026-01-03T00:00:00Z'),
};

describe('labels', () => {
  it('matches a key, a key=value, and an empty value', () => {
    const labels = { app: 'x', tier: '' };
    expect(matchLabels(labels, ['app'])).toBe(true);
    expect(matchLabels(labels, ['app=x', 'tier='])).toBe(true);
    expect(matchLabels(labels, ['app=y'])).toBe(false);
    expect(matchLabels(labels, ['missing'])).toBe(false);
    expect(matchLabels(labels, [])).toBe(true);
  });

  it('takes label! as none of them', () => {
    expect(labelFilter({ app: 'x' }, { label: ['app'], 'label!': ['app=y'] })).toBe(true);
    expect(labelFilter({ app: 'x' }, { 'label!': ['app'] })).toBe(false);
  });
});

describe('times', () => {
  it('reads until as Unix seconds, RFC 3339 or a duration before now', () => {
    expect(parseUntil('1700000000')).toBe(1_700_000_000_000);
    expect(parseUntil('2026-01-01T00:00:00Z')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(Math.abs(parseUntil('1h') - (Date.now() - 3_600_000))).toBeLessThan(1000);
    expect(() => parseUntil('soon')).toThrow("invalid filter 'until=soon'");
  });

  it('reads event times to the nanosecond', () => {
    expect(parseEventTime('1700000000.5', 'since')).toBe(1_700_000_000_500_000_000n);
    expect(() => parseEventTime('x', 'until')).toThrow('failed to parse value x for until: invalid timestamp');
  });
});

describe('per resource', () => {
  it('filters containers by each key', () => {
    const test = (f: Record<string, string[]>, c = container()) => containerFilter(f, lookups)(c);
    expect(test({ id: ['abc'], name: ['^/?we'], status: ['running'], label: ['app=x'], ancestor: ['busybox'] })).toBe(true);
    expect(test({ ancestor: ['other'] })).toBe(false);
    expect(test({ network: ['netid'], publish: ['8000-8100/tcp'], expose: ['80'], volume: ['/dst'] })).toBe(true);
    expect(test({ publish: ['80'] })).toBe(false);
    expect(test({ exited: ['0'] })).toBe(false);
    expect(test({ exited: ['3'] }, container({ state: 'exited', exit_code: 3 }))).toBe(true);
    expect(test({ since: ['old'] })).toBe(true);
    expect(test({ before: ['old'] })).toBe(false);
    expect(test({ 'is-task': ['true'] })).toBe(false);
    expect(() => test({ health: ['sick'] })).toThrow('Unrecognised filter value for health: sick');
  });

  it('asks a container for its networks only for a network filter', () => {
    let asked = 0;
    const c = container({ networks: () => (asked++, ['bridge']) });
    containerFilter({ label: ['app'] }, lookups)(c);
    expect(asked).toBe(0);
    containerFilter({ network: ['bridge'] }, lookups)(c);
    expect(asked).toBe(1);
  });

  it('filters networks, volumes, events and search results', () => {
    const n = { id: 'n1', name: 'front', driver: 'bridge', labels: {}, createdAt: '' };
    expect(
      networkFilter(
        { type: ['custom'], dangling: ['true'] },
        () => false,
        () => false,
      )(n),
    ).toBe(true);
    expect(
      networkFilter(
        { type: ['builtin'] },
        () => false,
        () => false,
      )(n),
    ).toBe(false);
    const v = { name: 'data', driver: 'local', labels: { a: '1' }, anonymous: false };
    expect(volumeFilter({ name: ['dat'], label: ['a=1'], dangling: ['1'] }, () => true)(v)).toBe(true);
    expect(volumeFilter({ dangling: ['false'] }, () => true)(v)).toBe(false);
    const e = { type: 'container', action: 'exec_start: sh', actorId: 'abc', attributes: { name: 'web', image: 'busybox:latest' } };
    expect(eventFilter({ event: ['exec_start'], container: ['web'], image: ['busybox'] })(e)).toBe(true);
    expect(eventFilter({ type: ['image'] })(e)).toBe(false);
    expect(searchFilter({ stars: ['3'], 'is-official': ['true'] })({ star_count: 5, is_official: true, is_automated: false })).toBe(true);
    expect(searchFilter({ stars: ['10'] })({ star_count: 5, is_official: true, is_automated: false })).toBe(false);
  });
});

describe('container states', () => {
  it('names the two meanings of running', () => {
    expect(['created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing'].filter((state) => isUp({ state }))).toEqual([
      'running',
      'paused',
      'restarting',
    ]);
    expect(['created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing'].filter((state) => isLive({ state }))).toEqual(['running', 'paused']);
  });
});
