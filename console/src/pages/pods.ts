import { html } from 'lit';
import { Page } from '../page.js';

class PodsPage extends Page {
  override render() {
    return html`<h1>pods</h1>`;
  }
}
customElements.define('berth-pods', PodsPage);
