// The containers list: kept live from the events stream (a container event reloads the list, debounced;
// no page reload), with each container's verbs as buttons, and the create form.
import { html, nothing } from 'lit';
import { DOCKER, getJson, send } from '../api.js';
import { Page } from '../page.js';
import { link } from '../router.js';
import { errorBanner, shortId } from '../ui.js';
import { debounce, watchEvents } from '../widgets/event-watch.js';
import './container-create.js';

/** One entry of `GET /containers/json` (the fields shown). */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

export interface Verb {
  label: string;
  /** The request: method and path after /containers/ID. */
  method: string;
  path: string;
  when: (state: string) => boolean;
}

export const VERBS: Verb[] = [
  { label: 'Start', method: 'POST', path: '/start', when: (s) => s === 'created' || s === 'exited' || s === 'dead' },
  { label: 'Stop', method: 'POST', path: '/stop', when: (s) => s === 'running' || s === 'restarting' || s === 'paused' },
  { label: 'Restart', method: 'POST', path: '/restart', when: (s) => s === 'running' || s === 'exited' },
  { label: 'Pause', method: 'POST', path: '/pause', when: (s) => s === 'running' },
  { label: 'Unpause', method: 'POST', path: '/unpause', when: (s) => s === 'paused' },
  // Not offered for a running container: removing one takes force, which a single click should not have.
  { label: 'Remove', method: 'DELETE', path: '', when: (s) => s !== 'running' && s !== 'paused' && s !== 'restarting' },
];

export function containerName(c: Pick<ContainerSummary, 'Names' | 'Id'>): string {
  return c.Names[0]?.replace(/^\//, '') ?? shortId(c.Id);
}

/** "0.0.0.0:8080->80/tcp", as `docker ps` shows them. */
export function portsText(ports: ContainerSummary['Ports']): string {
  const seen = new Set<string>();
  for (const p of ports) {
    if (p.IP === '::') continue; // the IPv6 twin of a 0.0.0.0 binding
    seen.add(p.PublicPort ? `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`);
  }
  return [...seen].join(', ');
}

class ContainersPage extends Page {
  static override properties = { live: { state: true }, list: { state: true }, error: { state: true }, busy: { state: true }, creating: { state: true } };
  declare list: ContainerSummary[] | undefined;
  declare error: string | undefined;
  /** IDs with a verb under way (their buttons are disabled meanwhile). */
  declare busy: Set<string>;
  declare creating: boolean;
  /** The events stream is open: the list follows the engine. */
  declare live: boolean;
  private abort = new AbortController();
  /** Loads may overlap (events in bursts): only the latest one's answer is shown. */
  private generation = 0;

  constructor() {
    super();
    this.busy = new Set();
    this.creating = false;
    this.live = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.abort = new AbortController();
    void this.load();
    const reload = debounce(() => void this.load(), 50);
    watchEvents({ type: ['container'] }, reload, this.abort.signal, (open) => {
      this.live = open;
      if (open) reload();
    });
  }

  override disconnectedCallback(): void {
    this.abort.abort();
    super.disconnectedCallback();
  }

  private async load() {
    const mine = ++this.generation;
    try {
      const list = await getJson<ContainerSummary[]>(`${DOCKER}/containers/json?all=1`, this.abort.signal);
      if (mine === this.generation) this.list = list;
    } catch (err) {
      if (!this.abort.signal.aborted) this.error = (err as Error).message;
    }
  }

  private async act(c: ContainerSummary, verb: Verb) {
    this.busy = new Set(this.busy).add(c.Id);
    this.error = undefined;
    try {
      await send(verb.method, `${DOCKER}/containers/${c.Id}${verb.path}`);
    } catch (err) {
      this.error = `${verb.label} ${containerName(c)}: ${(err as Error).message}`;
    } finally {
      const busy = new Set(this.busy);
      busy.delete(c.Id);
      this.busy = busy;
      void this.load(); // the event will come too; this covers a broken stream
    }
  }

  override render() {
    return html`
      <div class="heading">
        <h1>Containers</h1>
        <span class="muted" role="status">${this.live ? 'live' : 'connecting…'}</span>
        <button class="primary" aria-expanded=${this.creating} @click=${() => (this.creating = !this.creating)}>Create</button>
      </div>
      ${
        this.creating
          ? html`<berth-container-create
            @created=${() => {
              this.creating = false;
              void this.load();
            }}
            @cancel=${() => (this.creating = false)}
          ></berth-container-create>`
          : nothing
      }
      ${errorBanner(this.error)} ${this.list ? this.table(this.list) : html`<p>Loading…</p>`}
    `;
  }

  private table(list: ContainerSummary[]) {
    if (!list.length) return html`<p>No containers. Create one, or run one with <code>docker run</code>.</p>`;
    return html`
      <table class="list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Image</th>
            <th>State</th>
            <th class="wide-only">Status</th>
            <th class="wide-only">Ports</th>
            <th><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${list.map((c) => {
            const name = containerName(c);
            const busy = this.busy.has(c.Id);
            return html`
              <tr data-id=${c.Id}>
                <td><a href=${link('containers', c.Id)}>${name}</a></td>
                <td>${c.Image}</td>
                <td><span class="state state-${c.State}">${c.State}</span></td>
                <td class="wide-only">${c.Status}</td>
                <td class="wide-only">${portsText(c.Ports)}</td>
                <td>
                  <div class="actions">
                    ${VERBS.filter((v) => v.when(c.State)).map(
                      (v) => html`<button ?disabled=${busy} aria-label="${v.label} ${name}" @click=${() => this.act(c, v)}>${v.label}</button>`,
                    )}
                  </div>
                </td>
              </tr>
            `;
          })}
        </tbody>
      </table>
    `;
  }
}
customElements.define('berth-containers', ContainersPage);
