import { html } from 'lit';
import { Page } from '../page.js';

class ImagePage extends Page {
  override render() {
    return html`<h1>image</h1>`;
  }
}
customElements.define('berth-image', ImagePage);
