// An image's page (#/images/ID): what it is (tags, size, platform, its config), its history, and Run:
// create and start a container from it, then go to that container's page.
import { html } from 'lit';
import { ApiError, DOCKER, getJson, query, send } from '../api.js';
import { link } from '../router.js';
import { ago, bytes, shortId } from '../ui.js';
import { ResourcePage, conflictBanner, messageOf, routeId, epoch, formOf, rawJson } from './resources-ui.js';

interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: string;
  Size: number;
  Architecture?: string;
  Os?: string;
  Author?: string;
  Config?: {
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    User?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
    Volumes?: Record<string, unknown> | null;
  };
}

interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Size: number;
  Comment: string;
  Tags: string[] | null;
}

/** An ID shortened as docker shows it; a name as it is. */
const shortName = (ref: string) => (/^(sha256:)?[0-9a-f]{64}$/.test(ref) ? shortId(ref) : ref);

class ImagePage extends ResourcePage {
  static override properties = { ...ResourcePage.properties, doc: { state: true }, history: { state: true }, conflict: { state: true } };
  declare doc: ImageInspect | undefined;
  declare history: HistoryItem[] | undefined;
  /** The engine's reason for refusing a removal that forcing would override. */
  declare conflict: string | undefined;

  /** The route's :id (the shell sets it as the element's id attribute). */
  private get ref(): string {
    return routeId(this);
  }

  protected async load(): Promise<void> {
    const path = `${DOCKER}/images/${encodeURIComponent(this.ref)}`;
    const [doc, history] = await Promise.all([
      getJson<ImageInspect>(`${path}/json`, this.life.signal),
      getJson<HistoryItem[]>(`${path}/history`, this.life.signal),
    ]);
    this.doc = doc;
    this.history = history;
  }

  private async onRun(e: SubmitEvent): Promise<void> {
    const { text, checked } = formOf(e);
    const doc = this.doc;
    if (!doc) return;
    const name = text('name');
    const command = text('command');
    const tty = checked('tty');
    let created: { Id: string } | undefined;
    const ok = await this.act(async () => {
      created = await send<{ Id: string }>('POST', `${DOCKER}/containers/create${query({ name: name || undefined })}`, {
        json: {
          Image: this.imageRef(doc),
          ...(command ? { Cmd: command.split(/\s+/) } : {}),
          ...(tty ? { Tty: true, OpenStdin: true } : {}),
        },
      });
      if (created) await send('POST', `${DOCKER}/containers/${created.Id}/start`);
    });
    if (ok && created) location.hash = link('containers', created.Id);
  }

  /** What to name the image by: the route's reference, or for an ID its first tag (as `docker run` shows it). */
  private imageRef(doc: ImageInspect): string {
    const hex = doc.Id.replace(/^sha256:/, '');
    const byId = this.ref.replace(/^sha256:/, '');
    return byId.length >= 12 && hex.startsWith(byId) ? (doc.RepoTags?.[0] ?? doc.Id) : this.ref;
  }

  /** Removes the image (by the route's reference: a tag is untagged), then back to the list. */
  private async removeImage(force = false): Promise<void> {
    this.error = undefined;
    this.conflict = undefined;
    this.busy = true;
    try {
      await send('DELETE', `${DOCKER}/images/${encodeURIComponent(this.ref)}${query({ force: force || undefined })}`);
      location.hash = '#/images';
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && !force) this.conflict = err.message;
      else this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const d = this.doc;
    return html`
      <p><a href="#/images">← Images</a></p>
      <h1>Image ${d ? shortName(this.imageRef(d)) : shortName(this.ref)}</h1>
      ${this.errorView()}
      ${
        this.conflict
          ? conflictBanner(
              this.conflict,
              () => this.removeImage(true),
              () => (this.conflict = undefined),
            )
          : ''
      }
      ${d ? html`<div class="res-actions"><button ?disabled=${this.busy} @click=${() => this.removeImage()}>Remove image</button></div>` : ''}
      ${d ? this.details(d) : this.error ? '' : html`<p class="res-muted">Loading…</p>`}
    `;
  }

  private details(d: ImageInspect) {
    const c = d.Config ?? {};
    const created = epoch(d.Created);
    const list = (v: string[] | null | undefined) => (v?.length ? html`<span class="res-mono">${v.join(' ')}</span>` : '—');
    return html`
      <form class="res-form" aria-label="Run a container" @submit=${this.onRun}>
        <h2>Run</h2>
        <label>Container name (optional) <input type="text" name="name" autocomplete="off" /></label>
        <label>Command (optional) <input type="text" name="command" placeholder=${c.Cmd?.join(' ') ?? ''} autocomplete="off" /></label>
        <label class="inline"><input type="checkbox" name="tty" /> Keep it open with a terminal (-it)</label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Run</button>
      </form>
      <h2>Summary</h2>
      <dl class="res-summary" aria-label="Image summary">
        <dt>ID</dt><dd class="res-mono">${d.Id}</dd>
        <dt>Tags</dt><dd>${d.RepoTags?.length ? d.RepoTags.join(', ') : '—'}</dd>
        <dt>Digests</dt><dd class="res-mono">${d.RepoDigests?.length ? d.RepoDigests.join(', ') : '—'}</dd>
        <dt>Created</dt><dd>${created ? `${new Date(created * 1000).toLocaleString()} (${ago(created)})` : d.Created}</dd>
        <dt>Size</dt><dd>${bytes(d.Size)}</dd>
        <dt>Platform</dt><dd>${[d.Os, d.Architecture].filter(Boolean).join('/') || '—'}</dd>
        <dt>Entrypoint</dt><dd>${list(c.Entrypoint)}</dd>
        <dt>Command</dt><dd>${list(c.Cmd)}</dd>
        <dt>Working dir</dt><dd>${c.WorkingDir || '—'}</dd>
        <dt>User</dt><dd>${c.User || '—'}</dd>
        <dt>Ports</dt><dd>${c.ExposedPorts ? Object.keys(c.ExposedPorts).join(', ') : '—'}</dd>
        <dt>Volumes</dt><dd>${c.Volumes ? Object.keys(c.Volumes).join(', ') : '—'}</dd>
        <dt>Env</dt><dd>${c.Env?.length ? html`<ul class="res-members res-mono">${c.Env.map((v) => html`<li>${v}</li>`)}</ul>` : '—'}</dd>
        <dt>Labels</dt><dd>${c.Labels && Object.keys(c.Labels).length ? Object.entries(c.Labels).map(([k, v]) => html`<div class="res-mono">${k}=${v}</div>`) : '—'}</dd>
      </dl>
      <h2>History</h2>
      ${this.historyTable(this.history ?? [])} ${rawJson(d)}
    `;
  }

  private historyTable(items: HistoryItem[]) {
    return html`<table class="res-table" aria-label="History">
      <thead><tr><th>Layer</th><th class="wide-only">Created</th><th>Created by</th><th>Size</th></tr></thead>
      <tbody>
        ${items.map(
          (h) => html`<tr>
            <td class="res-mono">${h.Id && h.Id !== '<missing>' ? shortId(h.Id) : '<missing>'}</td>
            <td class="wide-only">${ago(h.Created)}</td>
            <td class="res-mono">${h.CreatedBy}${h.Comment ? html` <span class="res-muted">(${h.Comment})</span>` : ''}</td>
            <td>${bytes(h.Size)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}
customElements.define('berth-image', ImagePage);
