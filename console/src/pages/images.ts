// Images: the list (a row per image, its tags linking to its page), pull with a bar per layer, build
// from an uploaded context, and remove (a conflict offers the forced removal with the engine's reason).
import { html } from 'lit';
import { DOCKER, jsonLines, query, send, getJson, ApiError } from '../api.js';
import { ago, bytes, shortId } from '../ui.js';
import { PullProgress, layersView, type PullMessage } from './images-pull.js';
import { buildContext } from './images-tar.js';
import { ResourcePage, conflictBanner, formOf, imageLink, messageOf } from './resources-ui.js';

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  Containers?: number;
}

interface BuildMessage {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** An image's names, `<none>` ones left out. */
export function tagsOf(image: ImageSummary): string[] {
  return (image.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
}

/** `name[:tag|@digest]` as /images/create wants it; no tag means latest (else dockerd pulls every tag). */
export function pullParams(ref: string): { fromImage: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { fromImage: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { fromImage: ref, tag: 'latest' };
}

class ImagesPage extends ResourcePage {
  static override properties = {
    ...ResourcePage.properties,
    images: { state: true },
    pull: { state: true },
    pulling: { state: true },
    build: { state: true },
    building: { state: true },
    conflict: { state: true },
  };
  declare images: ImageSummary[] | undefined;
  declare pull: PullProgress | undefined;
  declare pulling: boolean;
  declare build: { log: string; error?: string; id?: string } | undefined;
  declare building: boolean;
  /** A removal the engine refused with a conflict: forcing it is offered. */
  declare conflict: { id: string; message: string } | undefined;

  constructor() {
    super();
    this.pulling = false;
    this.building = false;
  }

  protected async load(): Promise<void> {
    const images = await getJson<ImageSummary[]>(`${DOCKER}/images/json`, this.life.signal);
    this.images = images.sort((a, b) => b.Created - a.Created);
  }

  private async onPull(e: SubmitEvent): Promise<void> {
    const { text } = formOf(e);
    const ref = text('image');
    if (!ref) return;
    const progress = new PullProgress();
    this.pull = progress;
    this.pulling = true;
    try {
      for await (const m of jsonLines<PullMessage>('POST', `${DOCKER}/images/create${query(pullParams(ref))}`, { signal: this.life.signal })) {
        progress.add(m);
        this.requestUpdate('pull');
      }
    } catch (err) {
      progress.error = messageOf(err);
    } finally {
      this.pulling = false;
      this.requestUpdate('pull');
    }
    await this.refresh();
  }

  private async onBuild(e: SubmitEvent): Promise<void> {
    const { text, file } = formOf(e);
    const context = file('context');
    if (!context) return;
    const tag = text('tag');
    const state: { log: string; error?: string; id?: string } = { log: '' };
    this.build = state;
    this.building = true;
    try {
      const body = await buildContext(context);
      const path = `${DOCKER}/build${query({ t: tag || undefined, rm: true })}`;
      for await (const m of jsonLines<BuildMessage>('POST', path, { body, headers: { 'content-type': 'application/x-tar' }, signal: this.life.signal })) {
        if (m.error || m.errorDetail) state.error = m.errorDetail?.message ?? m.error;
        else if (m.stream) state.log += m.stream;
        else if (m.status) state.log += `${m.id ? `${m.id}: ` : ''}${m.status}\n`;
        if (m.aux?.ID) state.id = m.aux.ID;
        this.requestUpdate('build');
      }
    } catch (err) {
      state.error = messageOf(err);
    } finally {
      this.building = false;
      this.requestUpdate('build');
    }
    await this.refresh();
  }

  private async removeImage(id: string, force = false): Promise<void> {
    this.conflict = undefined;
    await this.act(async () => {
      try {
        await send('DELETE', `${DOCKER}/images/${encodeURIComponent(id)}${query({ force: force || undefined })}`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 409 && !force) {
          this.conflict = { id, message: err.message };
          return;
        }
        throw err;
      }
    });
  }

  override render() {
    return html`
      <div class="res-head"><h1>Images</h1>${this.refreshButton()}</div>
      ${this.errorView()}
      ${this.conflictView()}
      <div class="res-forms">
        <form class="res-form" aria-label="Pull an image" @submit=${this.onPull}>
          <h2>Pull</h2>
          <label>Image <input type="text" name="image" placeholder="docker.io/library/alpine:latest" required autocomplete="off" /></label>
          <button class="primary" type="submit" ?disabled=${this.pulling}>${this.pulling ? 'Pulling…' : 'Pull'}</button>
        </form>
        <form class="res-form" aria-label="Build an image" @submit=${this.onBuild}>
          <h2>Build</h2>
          <label>Build context (a .tar or .tar.gz, or a Dockerfile) <input type="file" name="context" required /></label>
          <label>Tag <input type="text" name="tag" placeholder="myimage:latest" autocomplete="off" /></label>
          <button class="primary" type="submit" ?disabled=${this.building}>${this.building ? 'Building…' : 'Build'}</button>
        </form>
      </div>
      ${this.pullView()} ${this.buildView()}
      ${this.images === undefined ? html`<p class="res-muted">Loading…</p>` : this.table(this.images)}
    `;
  }

  private conflictView() {
    const c = this.conflict;
    if (!c) return '';
    return conflictBanner(
      c.message,
      () => this.removeImage(c.id, true),
      () => (this.conflict = undefined),
    );
  }

  private pullView() {
    const p = this.pull;
    if (!p) return '';
    return html`<section aria-label="Pull progress" data-updates=${p.updates} data-done=${this.pulling ? 'no' : 'yes'}>
      <h2>Pull ${this.pulling ? html`<span class="res-muted">in progress</span>` : html`<span class="res-muted">finished</span>`}</h2>
      ${p.error ? html`<p class="error" role="alert">${p.error}</p>` : ''} ${layersView(p)}
    </section>`;
  }

  private buildView() {
    const b = this.build;
    if (!b) return '';
    return html`<section aria-label="Build output">
      <h2>Build ${this.building ? html`<span class="res-muted">in progress</span>` : ''}</h2>
      ${b.error ? html`<p class="error" role="alert">${b.error}</p>` : ''}
      <pre class="res-log">${b.log}</pre>
      ${b.id ? html`<p>Built <a href=${imageLink(b.id)}>${shortId(b.id)}</a></p>` : ''}
    </section>`;
  }

  private table(images: ImageSummary[]) {
    if (!images.length) return html`<p>No images.</p>`;
    return html`<table class="res-table" aria-label="Images">
      <thead>
        <tr><th>Repository:tag</th><th class="wide-only">ID</th><th>Size</th><th class="wide-only">Created</th><th>Actions</th></tr>
      </thead>
      <tbody>
        ${images.map((img) => {
          const tags = tagsOf(img);
          return html`<tr>
            <td>
              ${tags.length ? tags.map((t) => html`<div><a href=${imageLink(img.Id)}>${t}</a></div>`) : html`<a href=${imageLink(img.Id)}>&lt;none&gt;</a>`}
            </td>
            <td class="res-mono wide-only">${shortId(img.Id)}</td>
            <td>${bytes(img.Size)}</td>
            <td class="wide-only">${ago(img.Created)}</td>
            <td>
              <div class="res-actions">
              <a href=${imageLink(img.Id)}>Run…</a>
              <button ?disabled=${this.busy} @click=${() => this.removeImage(img.Id)} aria-label="Remove ${tags[0] ?? shortId(img.Id)}">Remove</button>
              </div>
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }
}
customElements.define('berth-images', ImagesPage);
