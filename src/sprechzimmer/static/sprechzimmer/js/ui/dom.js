// @ts-check
// Typed lookups of a page's elements. A template that lacks an element, or has one of another
// kind, fails here with the selector in the message, not later as "cannot read properties of null".

/**
 * The element `selector` finds under `root`; it must be there and be a `type`.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {{new (): T, prototype: T}} type e.g. HTMLInputElement
 * @returns {T}
 */
export function find(root, selector, type) {
  const element = root.querySelector(selector);
  if (element instanceof type) return element;
  throw new Error(`${selector}: ${element ? `not a ${type.name}` : "not on the page"}`);
}

/**
 * Like find, for an element some pages leave out (e.g. a button only doctors see): null then.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {{new (): T, prototype: T}} type
 * @returns {T | null}
 */
export function findOptional(root, selector, type) {
  return root.querySelector(selector) ? find(root, selector, type) : null;
}

/**
 * The control of a form by its name (`form.elements[name]`); it must be there and be a `type`.
 * @template {Element} T
 * @param {HTMLFormElement} form
 * @param {string} name
 * @param {{new (): T, prototype: T}} type e.g. HTMLInputElement, HTMLSelectElement
 * @returns {T}
 */
export function control(form, name, type) {
  const element = form.elements.namedItem(name);
  if (element instanceof type) return element;
  throw new Error(`form field ${name}: ${element ? `not a ${type.name}` : "not in the form"}`);
}

/**
 * The control of a form that holds a value (input, select or textarea), by its name.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement}
 */
export function valueControl(form, name) {
  const element = form.elements.namedItem(name);
  if (element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) {
    return element;
  }
  throw new Error(`form field ${name}: ${element ? "holds no value" : "not in the form"}`);
}
