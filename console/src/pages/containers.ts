import { html } from 'lit';
import { Page } from '../page.js';

class ContainersPage extends Page {
  override render() {
    return html`<h1>containers</h1>`;
  }
}
customElements.define('berth-containers', ContainersPage);
