// The base of every page and widget: a LitElement rendered into the light DOM, so the console's one
// stylesheet applies and tests find elements by their role and text.
import { LitElement } from 'lit';

export class Page extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }
}
