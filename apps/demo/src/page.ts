/** Small DOM helpers: the page's elements by their data-testid, and showing or hiding messages. */

export function byTestId<Element extends HTMLElement = HTMLElement>(id: string): Element {
  const element = document.querySelector<Element>(`[data-testid="${id}"]`);
  if (!element) throw new Error(`The page has no [data-testid="${id}"]`);
  return element;
}

export function show(node: HTMLElement, text: string): void {
  node.textContent = text;
  node.hidden = false;
}

export function hide(node: HTMLElement): void {
  node.textContent = '';
  node.hidden = true;
}

const labels = new WeakMap<HTMLButtonElement, string>();

/** A button that says what is happening and cannot be pressed twice meanwhile. */
export function setBusy(button: HTMLButtonElement, busy: boolean, busyText = ''): void {
  if (busy) {
    labels.set(button, button.textContent ?? '');
    button.textContent = busyText;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    return;
  }
  const label = labels.get(button);
  if (label !== undefined) button.textContent = label;
  button.disabled = false;
  button.removeAttribute('aria-busy');
}
