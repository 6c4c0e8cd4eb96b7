// Hash routes (#/containers/ID): the console is one page, so a reload or a bookmark keeps the place.
export interface Route {
  /** `#/containers/:id` style; `:name` parts become attributes of the element. */
  pattern: string;
  /** The custom element shown for it. */
  tag: string;
  /** The nav entry it belongs to. */
  nav: string;
}

export const ROUTES: Route[] = [
  { pattern: '/', tag: 'berth-dashboard', nav: 'Dashboard' },
  { pattern: '/containers', tag: 'berth-containers', nav: 'Containers' },
  { pattern: '/containers/:id', tag: 'berth-container', nav: 'Containers' },
  { pattern: '/images', tag: 'berth-images', nav: 'Images' },
  { pattern: '/images/:id', tag: 'berth-image', nav: 'Images' },
  { pattern: '/pods', tag: 'berth-pods', nav: 'Pods' },
  { pattern: '/pods/:id', tag: 'berth-pod', nav: 'Pods' },
  { pattern: '/volumes', tag: 'berth-volumes', nav: 'Volumes' },
  { pattern: '/networks', tag: 'berth-networks', nav: 'Networks' },
  { pattern: '/events', tag: 'berth-events', nav: 'Events' },
];

export const NAV = ['Dashboard', 'Containers', 'Images', 'Pods', 'Volumes', 'Networks', 'Events'];

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export function match(hash: string): Match {
  // Split first, then decode each part: an ID like host:5000/x:tag travels as one encoded part.
  const parts = (hash.replace(/^#/, '').split('?')[0] || '/')
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  for (const route of ROUTES) {
    const want = route.pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = parts[i]!), true) : w === parts[i]))) return { route, params };
  }
  return { route: ROUTES[0]!, params: {} };
}

/** The hash link of a route: link('containers', id). */
export function link(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}
