// Volumes: the list, create (name, driver, its options, labels), inspect folded in each row, remove, and
// prune (anonymous volumes only, as Docker's API does since 1.42, unless named ones are asked for too).
import { html } from 'lit';
import { DOCKER, getJson, query, send } from '../api.js';
import { ago, bytes } from '../ui.js';
import { ResourcePage, epoch, formOf, parsePairs } from './resources-ui.js';

interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: string;
}

class VolumesPage extends ResourcePage {
  static override properties = { ...ResourcePage.properties, volumes: { state: true }, notice: { state: true } };
  declare volumes: Volume[] | undefined;
  declare notice: string | undefined;

  protected async load(): Promise<void> {
    const { Volumes } = await getJson<{ Volumes: Volume[] | null }>(`${DOCKER}/volumes`, this.life.signal);
    this.volumes = (Volumes ?? []).sort((a, b) => a.Name.localeCompare(b.Name));
  }

  private async onCreate(e: SubmitEvent): Promise<void> {
    const { form, text } = formOf(e);
    this.notice = undefined;
    const ok = await this.act(async () => {
      const made = await send<Volume>('POST', `${DOCKER}/volumes/create`, {
        json: { Name: text('name') || undefined, Driver: text('driver') || 'local', DriverOpts: parsePairs(text('opts')), Labels: parsePairs(text('labels')) },
      });
      this.notice = `Created volume ${made?.Name ?? ''}`;
    });
    if (ok) form.reset();
  }

  private async prune(all: boolean): Promise<void> {
    this.notice = undefined;
    await this.act(async () => {
      const r = await send<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>(
        'POST',
        `${DOCKER}/volumes/prune${query({ filters: all ? { all: ['true'] } : undefined })}`,
      );
      const gone = r?.VolumesDeleted ?? [];
      this.notice = `Pruned ${gone.length} volume(s)${gone.length ? `: ${gone.join(', ')}` : ''}; ${bytes(r?.SpaceReclaimed ?? 0)} reclaimed`;
    });
  }

  override render() {
    return html`
      <div class="res-head"><h1>Volumes</h1>${this.refreshButton()}</div>
      ${this.errorView()} ${this.notice ? html`<p role="status">${this.notice}</p>` : ''}
      <div class="res-forms">
        <form class="res-form" aria-label="Create a volume" @submit=${this.onCreate}>
          <h2>Create</h2>
          <label>Volume name <input type="text" name="name" autocomplete="off" /></label>
          <label>Driver <input type="text" name="driver" value="local" autocomplete="off" /></label>
          <label>Driver options (key=value, comma-separated) <input type="text" name="opts" placeholder="type=tmpfs, device=tmpfs" autocomplete="off" /></label>
          <label>Labels (key=value, comma-separated) <input type="text" name="labels" autocomplete="off" /></label>
          <button class="primary" type="submit" ?disabled=${this.busy}>Create volume</button>
        </form>
        <div class="res-form">
          <h2>Prune</h2>
          <p class="res-muted">Removes volumes no container uses.</p>
          <div class="res-actions">
            <button ?disabled=${this.busy} @click=${() => this.prune(false)}>Prune anonymous volumes</button>
            <button ?disabled=${this.busy} @click=${() => this.prune(true)}>Prune all unused volumes</button>
          </div>
        </div>
      </div>
      ${this.volumes === undefined ? html`<p class="res-muted">Loading…</p>` : this.table(this.volumes)}
    `;
  }

  private table(volumes: Volume[]) {
    if (!volumes.length) return html`<p>No volumes.</p>`;
    return html`<table class="res-table" aria-label="Volumes">
      <thead><tr><th>Name</th><th>Driver</th><th class="wide-only">Created</th><th>Actions</th></tr></thead>
      <tbody>
        ${volumes.map((v) => {
          const created = epoch(v.CreatedAt);
          const doc = this.inspected.get(v.Name);
          return html`<tr data-volume=${v.Name}>
            <td>
              <details @toggle=${(e: Event) => this.inspectOnOpen(e, v.Name, `${DOCKER}/volumes/${encodeURIComponent(v.Name)}`)}>
                <summary class="res-mono">${v.Name}</summary>
                <pre>${JSON.stringify(doc ?? v, null, 2)}</pre>
              </details>
            </td>
            <td>${v.Driver}</td>
            <td class="wide-only">${created ? ago(created) : '—'}</td>
            <td>
              <button ?disabled=${this.busy} aria-label="Remove volume ${v.Name}" @click=${() => this.act(() => send('DELETE', `${DOCKER}/volumes/${encodeURIComponent(v.Name)}`))}>
                Remove
              </button>
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }
}
customElements.define('berth-volumes', VolumesPage);
