// What the images, pods, volumes, networks and events pages share: a base that loads, acts and says
// errors, small parsers for the create forms, a file download, and their few styles (adopted by the
// document once, so console/style.css stays the shell's).
import { html } from 'lit';
import { ApiError, getJson } from '../api.js';
import { Page } from '../page.js';
import { link } from '../router.js';
import { errorBanner } from '../ui.js';

const STYLES = `
.res-head { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem; }
.res-forms { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 0.75rem; margin: 0.75rem 0; }
.res-form { background: white; border: 1px solid var(--border); border-radius: 6px; padding: 0.6rem 0.75rem; }
.res-form h2 { font-size: 1rem; margin: 0 0 0.5rem; }
.res-form label { display: flex; flex-direction: column; gap: 0.15rem; margin-bottom: 0.45rem; font-size: 0.9rem; }
.res-form label.inline { flex-direction: row; align-items: center; gap: 0.4rem; }
.res-form input[type="text"], .res-form textarea, .res-form select { font: inherit; padding: 0.25rem 0.4rem; border: 1px solid var(--border); border-radius: 4px; }
.res-actions { display: flex; flex-wrap: wrap; gap: 0.3rem; }
.res-muted { color: #5b6472; font-size: 0.9rem; }
.res-mono { font-family: ui-monospace, monospace; font-size: 0.85rem; }
.res-log { background: #1d2430; color: #e6e9ef; padding: 0.5rem; border-radius: 4px; max-height: 20rem; overflow: auto; white-space: pre-wrap; font-size: 0.85rem; }
.res-layers { list-style: none; padding: 0; margin: 0.5rem 0; }
.res-layers li { display: grid; grid-template-columns: 8rem 1fr 10rem; gap: 0.5rem; align-items: center; padding: 0.15rem 0; }
.res-layers progress { width: 100%; }
.res-state { display: inline-block; padding: 0 0.4rem; border-radius: 999px; background: #e6e9ef; font-size: 0.85rem; }
.res-state.running { background: #d6f5dd; }
.res-state.exited, .res-state.stopped, .res-state.dead { background: #f3e1e1; }
.res-state.paused, .res-state.degraded { background: #fff1c2; }
.res-members { list-style: none; padding: 0; margin: 0; }
dl.res-summary { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; background: white; padding: 0.75rem; border: 1px solid var(--border); border-radius: 6px; }
dl.res-summary dt { font-weight: 600; }
dl.res-summary dd { margin: 0; overflow-wrap: anywhere; }
details { margin: 0.5rem 0; }
details pre, pre.res-json { background: white; border: 1px solid var(--border); padding: 0.5rem; overflow: auto; max-height: 30rem; font-size: 0.8rem; }
.res-events td { font-size: 0.9rem; }
.res-table th { overflow-wrap: normal; white-space: nowrap; }
.res-table button, .res-table .res-state { white-space: nowrap; }
@media (max-width: 640px) {
  .res-layers li { grid-template-columns: 1fr; gap: 0.1rem; }
  dl.res-summary { grid-template-columns: 1fr; }
}
`;

let adopted = false;
/** Adds the pages' styles to the document (once). */
export function adoptStyles(): void {
  if (adopted) return;
  adopted = true;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(STYLES);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}

/**
 * A page that loads its data, runs the user's actions and shows the engine's error where they acted.
 * `life` is aborted when the page leaves, ending its streams.
 */
export abstract class ResourcePage extends Page {
  static override properties = { error: { state: true }, busy: { state: true }, inspected: { state: true } };
  declare error: string | undefined;
  declare busy: boolean;
  /** Inspect documents fetched when a row's <details> open, by the row's key. */
  declare inspected: Map<string, unknown>;
  protected life = new AbortController();

  constructor() {
    super();
    this.busy = false;
    this.inspected = new Map();
    adoptStyles();
  }

  /** A row's <details> toggled: the first time it opens, its inspect document is fetched from `url`. */
  protected async inspectOnOpen(e: Event, key: string, url: string): Promise<void> {
    if (!(e.currentTarget instanceof HTMLDetailsElement) || !e.currentTarget.open || this.inspected.has(key)) return;
    await this.act(async () => {
      this.inspected = new Map(this.inspected).set(key, await getJson(url));
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.life.signal.aborted) this.life = new AbortController();
    void this.refresh();
  }

  override disconnectedCallback(): void {
    this.life.abort();
    super.disconnectedCallback();
  }

  /** Fetches what the page shows. */
  protected abstract load(): Promise<void>;

  /** load(), its error shown. */
  protected async refresh(): Promise<void> {
    try {
      await this.load();
    } catch (err) {
      if (!this.life.signal.aborted) this.error = messageOf(err);
    }
  }

  /** Runs an action (the error, if any, shown), then reloads. Resolves to whether it succeeded. */
  protected async act(fn: () => Promise<unknown>): Promise<boolean> {
    this.busy = true;
    this.error = undefined;
    let ok = true;
    try {
      await fn();
    } catch (err) {
      ok = false;
      this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
    await this.refresh();
    return ok;
  }

  protected refreshButton() {
    return html`<button ?disabled=${this.busy} @click=${() => this.refresh()}>Refresh</button>`;
  }

  protected errorView() {
    return errorBanner(this.error);
  }
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** `a=1, b=2` or one pair a line, as a map (a pair without `=` has an empty value). */
export function parsePairs(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(/[\n,]/)) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return Object.keys(out).length ? out : undefined;
}

/** Offers text as a file download (a Blob URL on a transient link). */
export function download(name: string, text: string, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The value of a named field of the form that submitted an event. */
export function formOf(e: Event): {
  form: HTMLFormElement;
  text: (name: string) => string;
  checked: (name: string) => boolean;
  file: (name: string) => File | undefined;
} {
  e.preventDefault();
  const form = e.currentTarget;
  if (!(form instanceof HTMLFormElement)) throw new Error('not a form');
  const el = (name: string) => form.elements.namedItem(name);
  return {
    form,
    text: (name) => {
      const f = el(name);
      return f instanceof HTMLInputElement || f instanceof HTMLTextAreaElement || f instanceof HTMLSelectElement ? f.value.trim() : '';
    },
    checked: (name) => {
      const f = el(name);
      return f instanceof HTMLInputElement && f.checked;
    },
    file: (name) => {
      const f = el(name);
      return f instanceof HTMLInputElement ? (f.files?.[0] ?? undefined) : undefined;
    },
  };
}

/**
 * The route's :id of a page (the shell sets it as the element's id attribute), decoded: the router's
 * decodeURI leaves %3A and %2F of an image reference (`sha256:…`, `host:5000/name:tag`) encoded.
 */
export function routeId(el: Element): string {
  const raw = el.getAttribute('id') ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** An image's page: by its hex ID (no colon in the URL), or by a reference. */
export function imageLink(ref: string): string {
  return link('images', ref.replace(/^sha256:/, ''));
}

/** A refusal that forcing overrides (an image in use): the engine's reason, and the choice. */
export function conflictBanner(message: string, force: () => void, keep: () => void) {
  return html`<div class="error" role="alert">
    <p>${message}</p>
    <div class="res-actions">
      <button class="primary" @click=${force}>Remove anyway (force)</button>
      <button @click=${keep}>Keep it</button>
    </div>
  </div>`;
}

/** A container's, a pod's state as a badge. */
export function stateBadge(state: string | undefined) {
  const s = (state ?? '').toLowerCase();
  return html`<span class="res-state ${s}">${state ?? '—'}</span>`;
}

/** An inspect document, raw, folded. */
export function rawJson(doc: unknown, summary = 'Raw JSON') {
  return html`<details><summary>${summary}</summary><pre>${JSON.stringify(doc, null, 2)}</pre></details>`;
}

/** Seconds since the epoch from an RFC 3339 time (Docker's volume and network Created). */
export function epoch(time: string | undefined): number | undefined {
  if (!time) return undefined;
  const t = Date.parse(time);
  return Number.isNaN(t) ? undefined : t / 1000;
}
