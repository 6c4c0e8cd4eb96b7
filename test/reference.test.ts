import { describe, expect, it } from 'vitest';
import { familiarString, parseReference, parseTaggedReference, referenceString } from '../runtime/images/reference.js';

const normalized = (s: string) => referenceString(parseTaggedReference(s));

describe('image references, normalized as Docker does', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:x', 'docker.io/library/busybox:x', 'busybox:x'],
    ['user/app:v1', 'docker.io/user/app:v1', 'user/app:v1'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/a/b:c', 'localhost:5000/a/b:c', 'localhost:5000/a/b:c'],
    ['registry.example.com/x', 'registry.example.com/x:latest', 'registry.example.com/x:latest'],
    ['golden/layered:1.0', 'docker.io/golden/layered:1.0', 'golden/layered:1.0'],
    ['a__b-c/e---f:T_1.x-y', 'docker.io/a__b-c/e---f:T_1.x-y', 'a__b-c/e---f:T_1.x-y'],
    ['my.registry/a__b.c:T_1.x-y', 'my.registry/a__b.c:T_1.x-y', 'my.registry/a__b.c:T_1.x-y'],
  ])('%s', (input, full, familiar) => {
    expect(normalized(input)).toBe(full);
    expect(familiarString(parseTaggedReference(input))).toBe(familiar);
  });

  it('keeps digests', () => {
    const d = 'sha256:' + 'a'.repeat(64);
    const ref = parseReference(`busybox@${d}`);
    expect(ref).toEqual({ domain: 'docker.io', path: 'library/busybox', tag: undefined, digest: d });
    expect(referenceString(parseTaggedReference(`busybox@${d}`))).toBe(`docker.io/library/busybox@${d}`);
  });

  it.each([
    ['Busybox', /must be lowercase/],
    ['busybox:', /invalid reference format/],
    ['busybox:a b', /invalid reference format/],
    ['-busybox', /invalid reference format/],
    ['a'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
    ['busybox@sha256:xyz', /invalid reference format/],
    ['', /invalid reference format/],
  ])('rejects %s', (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
  });
});
