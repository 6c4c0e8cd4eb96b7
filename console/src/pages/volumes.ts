import { html } from 'lit';
import { Page } from '../page.js';

class VolumesPage extends Page {
  override render() {
    return html`<h1>volumes</h1>`;
  }
}
customElements.define('berth-volumes', VolumesPage);
