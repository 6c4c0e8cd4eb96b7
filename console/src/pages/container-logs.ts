// A container's logs, following: the lines so far (a tail) and then each as the container prints it,
// with a search box that narrows the lines to those containing the text and marks it.
import { html, nothing } from 'lit';
import { DOCKER, frames, query, request } from '../api.js';
import { Page } from '../page.js';
import { errorBanner } from '../ui.js';

/** Lines kept in the view; older ones are dropped as new ones come. */
const KEEP = 5000;

interface Line {
  stream: 'stdout' | 'stderr';
  text: string;
}

class ContainerLogs extends Page {
  static override properties = {
    container: {},
    multiplexed: { type: Boolean },
    lines: { state: true },
    search: { state: true },
    status: { state: true },
    error: { state: true },
  };
  declare container: string;
  /** Without a TTY the engine frames stdout and stderr (the container's Config.Tty is false). */
  declare multiplexed: boolean;
  declare lines: Line[];
  declare search: string;
  declare status: 'connecting' | 'following' | 'ended';
  declare error: string | undefined;
  private abort = new AbortController();

  constructor() {
    super();
    this.lines = [];
    this.search = '';
    this.status = 'connecting';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.follow();
  }

  override disconnectedCallback(): void {
    this.abort.abort();
    super.disconnectedCallback();
  }

  private follow() {
    this.abort.abort();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.lines = [];
    this.status = 'connecting';
    this.error = undefined;
    void (async () => {
      const partial: Record<Line['stream'], string> = { stdout: '', stderr: '' };
      const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
      try {
        const q = query({ follow: 1, stdout: 1, stderr: 1, tail: 500, timestamps: 0 });
        const res = await request('GET', `${DOCKER}/containers/${this.container}/logs${q}`, { signal });
        this.status = 'following';
        for await (const f of frames(res, this.multiplexed)) {
          const text = partial[f.stream] + decoders[f.stream].decode(f.data, { stream: true });
          const parts = text.split('\n');
          partial[f.stream] = parts.pop()!;
          if (parts.length) this.add(parts.map((t) => ({ stream: f.stream, text: t.replace(/\r$/, '') })));
        }
        const rest = (['stdout', 'stderr'] as const).filter((s) => partial[s]).map((s) => ({ stream: s, text: partial[s] }));
        if (rest.length) this.add(rest);
      } catch (err) {
        if (!signal.aborted) this.error = (err as Error).message;
      }
      if (!signal.aborted) this.status = 'ended';
    })();
  }

  private add(more: Line[]) {
    const box = this.querySelector('.log-lines');
    const atBottom = !box || box.scrollHeight - box.scrollTop - box.clientHeight < 30;
    const all = this.lines.concat(more);
    this.lines = all.length > KEEP ? all.slice(all.length - KEEP) : all;
    // Keep following the end unless the reader scrolled up.
    if (atBottom) void this.updateComplete.then(() => box?.scrollTo({ top: box.scrollHeight }));
  }

  override render() {
    const needle = this.search.toLowerCase();
    const shown = needle ? this.lines.filter((l) => l.text.toLowerCase().includes(needle)) : this.lines;
    return html`
      <div class="toolbar">
        <label>Search logs <input type="search" .value=${this.search} @input=${(e: Event) => (this.search = (e.target as HTMLInputElement).value)} /></label>
        <span class="muted" role="status">${this.status}${needle ? `, ${shown.length} of ${this.lines.length} lines` : ''}</span>
        ${this.status === 'ended' ? html`<button @click=${() => this.follow()}>Follow again</button>` : nothing}
      </div>
      ${errorBanner(this.error)}
      <pre class="log-lines" tabindex="0" aria-label="Logs">${shown.map((l) => html`<div class=${l.stream}>${needle ? mark(l.text, needle) : l.text}</div>`)}</pre>
    `;
  }
}

/** The text with each occurrence of `needle` (lower case) in a <mark>. */
function mark(text: string, needle: string) {
  const out: unknown[] = [];
  const lower = text.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, at)) {
    out.push(text.slice(at, i), html`<mark>${text.slice(i, i + needle.length)}</mark>`);
    at = i + needle.length;
  }
  out.push(text.slice(at));
  return out;
}
customElements.define('berth-container-logs', ContainerLogs);
