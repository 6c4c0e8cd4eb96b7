import { html } from 'lit';
import { Page } from '../page.js';

class ContainerPage extends Page {
  override render() {
    return html`<h1>container</h1>`;
  }
}
customElements.define('berth-container', ContainerPage);
