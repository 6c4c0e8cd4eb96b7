// A running container's processes (`GET /containers/{id}/top`), refreshed on demand.
import { html } from 'lit';
import { DOCKER, getJson } from '../api.js';
import { Page } from '../page.js';
import { errorBanner } from '../ui.js';

class ContainerTop extends Page {
  static override properties = { container: {}, top: { state: true }, error: { state: true } };
  declare container: string;
  declare top: { Titles: string[]; Processes: string[][] } | undefined;
  declare error: string | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    try {
      this.top = await getJson(`${DOCKER}/containers/${this.container}/top`);
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  override render() {
    return html`
      <div class="toolbar"><button @click=${() => void this.load()}>Refresh</button></div>
      ${errorBanner(this.error)}
      ${
        this.top
          ? html`<table class="list">
            <thead>
              <tr>${this.top.Titles.map((t) => html`<th>${t}</th>`)}</tr>
            </thead>
            <tbody>
              ${this.top.Processes.map((p) => html`<tr>${p.map((v) => html`<td>${v}</td>`)}</tr>`)}
            </tbody>
          </table>`
          : ''
      }
    `;
  }
}
customElements.define('berth-container-top', ContainerTop);
