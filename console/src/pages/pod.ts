import { html } from 'lit';
import { Page } from '../page.js';

class PodPage extends Page {
  override render() {
    return html`<h1>pod</h1>`;
  }
}
customElements.define('berth-pod', PodPage);
