import { html } from 'lit';
import { Page } from '../page.js';

class NetworksPage extends Page {
  override render() {
    return html`<h1>networks</h1>`;
  }
}
customElements.define('berth-networks', NetworksPage);
