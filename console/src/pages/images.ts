import { html } from 'lit';
import { Page } from '../page.js';

class ImagesPage extends Page {
  override render() {
    return html`<h1>images</h1>`;
  }
}
customElements.define('berth-images', ImagesPage);
