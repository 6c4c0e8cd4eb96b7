// Pods (libpod): the list with each pod's members and their state, the verbs per pod, create (a name and
// published ports), and play kube from an uploaded YAML file.
import { html } from 'lit';
import { LIBPOD, getJson, send } from '../api.js';
import { link } from '../router.js';
import { ago, shortId } from '../ui.js';
import { generateKube, podVerb, portMappings, removePod, type PodSummary, type PodVerb } from './pods-api.js';
import { ResourcePage, download, epoch, formOf, stateBadge } from './resources-ui.js';

interface PlayReport {
  Pods: { ID: string; Containers: string[] | null; ContainerErrors: string[] | null }[] | null;
  Volumes: { Name: string }[] | null;
}

class PodsPage extends ResourcePage {
  static override properties = { ...ResourcePage.properties, pods: { state: true }, played: { state: true } };
  declare pods: PodSummary[] | undefined;
  declare played: PlayReport | undefined;

  protected async load(): Promise<void> {
    const pods = await getJson<PodSummary[] | null>(`${LIBPOD}/pods/json`, this.life.signal);
    this.pods = (pods ?? []).sort((a, b) => a.Name.localeCompare(b.Name));
  }

  private async onCreate(e: SubmitEvent): Promise<void> {
    const { form, text } = formOf(e);
    const ok = await this.act(async () => {
      const ports = portMappings(text('ports'));
      await send('POST', `${LIBPOD}/pods/create`, { json: { name: text('name') || undefined, ...(ports.length ? { portmappings: ports } : {}) } });
    });
    if (ok) form.reset();
  }

  private async onPlay(e: SubmitEvent): Promise<void> {
    const { file } = formOf(e);
    const yaml = file('yaml');
    if (!yaml) return;
    this.played = undefined;
    await this.act(async () => {
      this.played = await send<PlayReport>('POST', `${LIBPOD}/play/kube`, { body: yaml, headers: { 'content-type': 'application/yaml' } });
    });
  }

  private verb(id: string, verb: PodVerb) {
    return this.act(() => podVerb(id, verb));
  }

  override render() {
    return html`
      <div class="res-head"><h1>Pods</h1>${this.refreshButton()}</div>
      ${this.errorView()}
      <div class="res-forms">
        <form class="res-form" aria-label="Create a pod" @submit=${this.onCreate}>
          <h2>Create</h2>
          <label>Pod name <input type="text" name="name" autocomplete="off" /></label>
          <label>Published ports (host:container, comma-separated) <input type="text" name="ports" placeholder="8080:80" autocomplete="off" /></label>
          <button class="primary" type="submit" ?disabled=${this.busy}>Create pod</button>
        </form>
        <form class="res-form" aria-label="Play kube" @submit=${this.onPlay}>
          <h2>Play kube</h2>
          <label>Kubernetes YAML <input type="file" name="yaml" accept=".yaml,.yml,application/yaml,text/yaml" required /></label>
          <button class="primary" type="submit" ?disabled=${this.busy}>Play</button>
        </form>
      </div>
      ${this.playedView()} ${this.pods === undefined ? html`<p class="res-muted">Loading…</p>` : this.table(this.pods)}
    `;
  }

  private playedView() {
    const r = this.played;
    if (!r) return '';
    return html`<section aria-label="Play kube result" class="res-form">
      <h2>Played</h2>
      <ul>
        ${(r.Pods ?? []).map(
          (p) => html`<li>
            Pod <a href=${link('pods', p.ID)}>${shortId(p.ID)}</a>: ${(p.Containers ?? []).length} container(s)
            ${(p.ContainerErrors ?? []).map((m) => html`<p class="error">${m}</p>`)}
          </li>`,
        )}
        ${(r.Volumes ?? []).map((v) => html`<li>Volume ${v.Name}</li>`)}
      </ul>
    </section>`;
  }

  private table(pods: PodSummary[]) {
    if (!pods.length) return html`<p>No pods.</p>`;
    return html`<table class="res-table" aria-label="Pods">
      <thead><tr><th>Name</th><th>Status</th><th>Members</th><th class="wide-only">Created</th><th>Actions</th></tr></thead>
      <tbody>
        ${pods.map((p) => {
          const created = epoch(p.Created);
          return html`<tr data-pod=${p.Name}>
            <td><a href=${link('pods', p.Id)}>${p.Name}</a></td>
            <td>${stateBadge(p.Status)}</td>
            <td>
              <ul class="res-members">
                ${(p.Containers ?? []).map(
                  (c) =>
                    html`<li>
                      <a href=${link('containers', c.Id)}>${c.Names}</a>${c.Id === p.InfraId ? html` <span class="res-muted">(infra)</span>` : ''} ${stateBadge(c.Status)}
                    </li>`,
                )}
              </ul>
            </td>
            <td class="wide-only">${created ? ago(created) : p.Created}</td>
            <td>
              <div class="res-actions" role="group" aria-label="Pod ${p.Name}">
                <button ?disabled=${this.busy} @click=${() => this.verb(p.Id, 'start')}>Start</button>
                <button ?disabled=${this.busy} @click=${() => this.verb(p.Id, 'stop')}>Stop</button>
                <button ?disabled=${this.busy} @click=${() => this.verb(p.Id, 'restart')}>Restart</button>
                <button ?disabled=${this.busy} @click=${() => this.act(async () => download(`${p.Name}.yaml`, await generateKube(p.Id), 'application/yaml'))}>
                  Kube YAML
                </button>
                <button ?disabled=${this.busy} @click=${() => this.act(() => removePod(p.Id))}>Remove</button>
              </div>
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }
}
customElements.define('berth-pods', PodsPage);
