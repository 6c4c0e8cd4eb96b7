// A pod's page (#/pods/ID): its state, members (links to their containers' pages), the verbs, the pod
// as Kubernetes YAML to download, and its inspect document.
import { html } from 'lit';
import { LIBPOD, getJson } from '../api.js';
import { link } from '../router.js';
import { ago, shortId } from '../ui.js';
import { generateKube, podVerb, removePod, type PodInspect, type PodVerb } from './pods-api.js';
import { ResourcePage, routeId, download, epoch, rawJson, stateBadge } from './resources-ui.js';

class PodPage extends ResourcePage {
  static override properties = { ...ResourcePage.properties, doc: { state: true } };
  declare doc: PodInspect | undefined;

  private get ref(): string {
    return routeId(this);
  }

  protected async load(): Promise<void> {
    this.doc = await getJson<PodInspect>(`${LIBPOD}/pods/${encodeURIComponent(this.ref)}/json`, this.life.signal);
  }

  private verb(verb: PodVerb) {
    return this.act(() => podVerb(this.ref, verb));
  }

  private async removeThis(): Promise<void> {
    if (await this.act(() => removePod(this.ref))) location.hash = '#/pods';
  }

  override render() {
    const d = this.doc;
    return html`
      <p><a href="#/pods">← Pods</a></p>
      <h1>Pod ${d?.Name ?? shortId(this.ref)} ${d ? stateBadge(d.State) : ''}</h1>
      ${this.errorView()} ${d ? this.details(d) : this.error ? '' : html`<p class="res-muted">Loading…</p>`}
    `;
  }

  private details(d: PodInspect) {
    const created = epoch(d.Created);
    const ports = Object.entries(d.InfraConfig?.PortBindings ?? {}).flatMap(([port, binds]) =>
      (binds ?? []).map((b) => `${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort}→${port}`),
    );
    return html`
      <div class="res-actions" role="group" aria-label="Pod actions">
        <button ?disabled=${this.busy} @click=${() => this.verb('start')}>Start</button>
        <button ?disabled=${this.busy} @click=${() => this.verb('stop')}>Stop</button>
        <button ?disabled=${this.busy} @click=${() => this.verb('restart')}>Restart</button>
        <button ?disabled=${this.busy} @click=${() => this.verb('pause')}>Pause</button>
        <button ?disabled=${this.busy} @click=${() => this.verb('unpause')}>Unpause</button>
        <button ?disabled=${this.busy} @click=${() => this.act(async () => download(`${d.Name}.yaml`, await generateKube(d.Id), 'application/yaml'))}>
          Generate kube
        </button>
        <button ?disabled=${this.busy} @click=${() => this.removeThis()}>Remove</button>
      </div>
      <h2>Members</h2>
      <table class="res-table" aria-label="Members">
        <thead><tr><th>Name</th><th>ID</th><th>State</th></tr></thead>
        <tbody>
          ${(d.Containers ?? []).map(
            (c) => html`<tr>
              <td><a href=${link('containers', c.Id)}>${c.Name}</a>${c.Id === d.InfraContainerID ? html` <span class="res-muted">(infra)</span>` : ''}</td>
              <td class="res-mono">${shortId(c.Id)}</td>
              <td>${stateBadge(c.State)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <h2>Summary</h2>
      <dl class="res-summary" aria-label="Pod summary">
        <dt>ID</dt><dd class="res-mono">${d.Id}</dd>
        <dt>Created</dt><dd>${created ? `${new Date(created * 1000).toLocaleString()} (${ago(created)})` : d.Created}</dd>
        <dt>Hostname</dt><dd>${d.Hostname || '—'}</dd>
        <dt>Shared namespaces</dt><dd>${d.SharedNamespaces?.join(', ') || '—'}</dd>
        <dt>Published ports</dt><dd>${ports.join(', ') || '—'}</dd>
        <dt>Labels</dt><dd>${d.Labels && Object.keys(d.Labels).length ? Object.entries(d.Labels).map(([k, v]) => html`<div class="res-mono">${k}=${v}</div>`) : '—'}</dd>
      </dl>
      ${rawJson(d, 'Inspect (raw JSON)')}
    `;
  }
}
customElements.define('berth-pod', PodPage);
