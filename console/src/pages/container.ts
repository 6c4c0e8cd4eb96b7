// A container's page: its verbs, and tabs for the inspect (readable sections and the raw JSON), the
// logs (following, with search), a terminal, the stats charts and the processes. The inspect is
// reloaded on the container's events, so the state shown is the engine's.
import { html, nothing } from 'lit';
import { ApiError, DOCKER, getJson, send } from '../api.js';
import { Page } from '../page.js';
import { bytes, errorBanner, shortId } from '../ui.js';
import { debounce, watchEvents } from '../widgets/event-watch.js';
import { VERBS, type Verb } from './containers.js';
import './container-logs.js';
import './container-stats.js';
import './container-terminal.js';
import './container-top.js';

/** The fields of `GET /containers/{id}/json` shown (Docker's shape). */
interface Inspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  RestartCount: number;
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    Health?: { Status: string };
  };
  Config: {
    Image: string;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    Env: string[] | null;
    WorkingDir: string;
    User: string;
    Tty: boolean;
    OpenStdin: boolean;
    Hostname: string;
    Labels: Record<string, string> | null;
  };
  HostConfig: { RestartPolicy?: { Name: string }; Memory?: number; NanoCpus?: number; NetworkMode?: string };
  NetworkSettings: {
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
    Networks: Record<string, { IPAddress: string; Gateway: string; MacAddress: string; GlobalIPv6Address?: string }> | null;
  };
  Mounts: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[];
}

const TABS = ['Overview', 'Logs', 'Terminal', 'Stats', 'Processes'] as const;
type Tab = (typeof TABS)[number];
/** Tabs that need the container running. */
const LIVE: Tab[] = ['Terminal', 'Stats', 'Processes'];

class ContainerPage extends Page {
  static override properties = { info: { state: true }, error: { state: true }, tab: { state: true }, busy: { state: true }, gone: { state: true } };
  // `id` (the element's own attribute, set by the shell from #/containers/:id) names the container.
  declare info: Inspect | undefined;
  declare error: string | undefined;
  declare tab: Tab;
  declare busy: boolean;
  declare gone: boolean;
  private abort = new AbortController();

  constructor() {
    super();
    this.tab = 'Overview';
    this.busy = false;
    this.gone = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.abort = new AbortController();
    void this.load().then(() => {
      if (!this.info) return;
      const reload = debounce(() => void this.load(), 100);
      watchEvents({ type: ['container'], container: [this.info.Id] }, reload, this.abort.signal, (open) => open && reload());
    });
  }

  override disconnectedCallback(): void {
    this.abort.abort();
    super.disconnectedCallback();
  }

  private async load() {
    try {
      this.info = await getJson<Inspect>(`${DOCKER}/containers/${encodeURIComponent(this.id)}/json`, this.abort.signal);
    } catch (err) {
      if (this.abort.signal.aborted) return;
      if (err instanceof ApiError && err.status === 404) this.gone = true;
      this.error = (err as Error).message;
    }
  }

  private async act(verb: Verb) {
    this.busy = true;
    this.error = undefined;
    try {
      await send(verb.method, `${DOCKER}/containers/${this.info!.Id}${verb.path}`);
      if (verb.label === 'Remove') location.hash = '#/containers';
    } catch (err) {
      this.error = `${verb.label}: ${(err as Error).message}`;
    } finally {
      this.busy = false;
      void this.load();
    }
  }

  override render() {
    const c = this.info;
    if (!c) return html`<h1>Container ${this.id}</h1>${errorBanner(this.error)}${this.error ? nothing : html`<p>Loading…</p>`}`;
    const name = c.Name.replace(/^\//, '');
    const running = c.State.Running && !c.State.Paused;
    return html`
      <p class="crumbs"><a href="#/containers">Containers</a> ›</p>
      <div class="heading">
        <h1>${name}</h1>
        <span class="state state-${c.State.Status}">${this.gone ? 'removed' : c.State.Status}</span>
        <span class="actions">
          ${
            this.gone
              ? nothing
              : VERBS.filter((v) => v.when(c.State.Status)).map(
                  (v) => html`<button ?disabled=${this.busy} aria-label="${v.label} ${name}" @click=${() => this.act(v)}>${v.label}</button>`,
                )
          }
        </span>
      </div>
      ${errorBanner(this.error)}
      <div role="tablist" aria-label="Container views" class="tabs">
        ${TABS.map(
          (t) => html`<button role="tab" id="tab-${t}" aria-controls="panel" aria-selected=${this.tab === t} @click=${() => (this.tab = t)}>${t}</button>`,
        )}
      </div>
      <section role="tabpanel" id="panel" aria-labelledby="tab-${this.tab}">
        ${LIVE.includes(this.tab) && !running ? html`<p>The container is ${c.State.Status}: start it to see this.</p>` : this.panel(c)}
      </section>
    `;
  }

  private panel(c: Inspect) {
    switch (this.tab) {
      case 'Overview':
        return this.overview(c);
      case 'Logs':
        return html`<berth-container-logs .container=${c.Id} .multiplexed=${!c.Config.Tty}></berth-container-logs>`;
      case 'Terminal':
        return html`<berth-container-terminal .container=${c.Id}></berth-container-terminal>`;
      case 'Stats':
        return html`<berth-container-stats .container=${c.Id}></berth-container-stats>`;
      case 'Processes':
        return html`<berth-container-top .container=${c.Id}></berth-container-top>`;
    }
  }

  private overview(c: Inspect) {
    const s = c.State;
    const when = (t: string) => (t && !t.startsWith('0001') ? new Date(t).toLocaleString() : '—');
    const words = (a: string[] | null) => (a?.length ? a.join(' ') : '—');
    const ports = Object.entries(c.NetworkSettings.Ports ?? {});
    const networks = Object.entries(c.NetworkSettings.Networks ?? {});
    const labels = Object.entries(c.Config.Labels ?? {});
    return html`
      <div class="cards">
        <section class="card" aria-labelledby="sec-state">
          <h2 id="sec-state">State</h2>
          <dl class="pairs">
            <dt>Status</dt><dd>${s.Status}${s.Health ? ` (${s.Health.Status})` : ''}</dd>
            <dt>Started</dt><dd>${when(s.StartedAt)}</dd>
            <dt>Finished</dt><dd>${when(s.FinishedAt)}</dd>
            <dt>Exit code</dt><dd>${s.ExitCode}</dd>
            <dt>PID</dt><dd>${s.Pid || '—'}</dd>
            <dt>Restarts</dt><dd>${c.RestartCount} (policy ${c.HostConfig.RestartPolicy?.Name || 'no'})</dd>
            ${s.Error ? html`<dt>Error</dt><dd>${s.Error}</dd>` : nothing}
          </dl>
        </section>
        <section class="card" aria-labelledby="sec-config">
          <h2 id="sec-config">Config</h2>
          <dl class="pairs">
            <dt>ID</dt><dd title=${c.Id}>${shortId(c.Id)}</dd>
            <dt>Image</dt><dd>${c.Config.Image} <span class="muted">${shortId(c.Image)}</span></dd>
            <dt>Created</dt><dd>${when(c.Created)}</dd>
            <dt>Entrypoint</dt><dd><code>${words(c.Config.Entrypoint)}</code></dd>
            <dt>Command</dt><dd><code>${words(c.Config.Cmd)}</code></dd>
            <dt>Working dir</dt><dd>${c.Config.WorkingDir || '/'}</dd>
            <dt>User</dt><dd>${c.Config.User || 'root'}</dd>
            <dt>TTY</dt><dd>${c.Config.Tty ? 'yes' : 'no'}${c.Config.OpenStdin ? ', stdin open' : ''}</dd>
            <dt>Memory limit</dt><dd>${c.HostConfig.Memory ? bytes(c.HostConfig.Memory) : 'none'}</dd>
          </dl>
          <h3>Environment</h3>
          <ul class="plain">${(c.Config.Env ?? []).map((e) => html`<li><code>${e}</code></li>`)}</ul>
          ${labels.length ? html`<h3>Labels</h3><ul class="plain">${labels.map(([k, v]) => html`<li><code>${k}=${v}</code></li>`)}</ul>` : nothing}
        </section>
        <section class="card" aria-labelledby="sec-network">
          <h2 id="sec-network">Network</h2>
          <dl class="pairs">
            <dt>Hostname</dt><dd>${c.Config.Hostname}</dd>
            <dt>Mode</dt><dd>${c.HostConfig.NetworkMode ?? '—'}</dd>
            ${networks.map(
              ([n, v]) =>
                html`<dt>${n}</dt><dd>${v.IPAddress || '—'}${v.GlobalIPv6Address ? `, ${v.GlobalIPv6Address}` : ''} <span class="muted">gw ${v.Gateway || '—'}, ${v.MacAddress || ''}</span></dd>`,
            )}
            <dt>Ports</dt>
            <dd>
              ${
                ports.length
                  ? ports.map(([p, b]) => html`<div>${p}${b?.length ? ` → ${b.map((x) => `${x.HostIp || '0.0.0.0'}:${x.HostPort}`).join(', ')}` : ''}</div>`)
                  : 'none'
              }
            </dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="sec-mounts">
          <h2 id="sec-mounts">Mounts</h2>
          ${
            c.Mounts.length
              ? html`<table class="list">
                <thead><tr><th>Type</th><th>Source</th><th>Destination</th><th>Mode</th></tr></thead>
                <tbody>
                  ${c.Mounts.map((m) => html`<tr><td>${m.Type}</td><td>${m.Name ?? m.Source}</td><td>${m.Destination}</td><td>${m.RW ? 'rw' : 'ro'}</td></tr>`)}
                </tbody>
              </table>`
              : html`<p>none</p>`
          }
        </section>
      </div>
      <details class="raw">
        <summary>Raw JSON (docker inspect)</summary>
        <pre>${JSON.stringify(c, null, 2)}</pre>
      </details>
    `;
  }
}
customElements.define('berth-container', ContainerPage);
