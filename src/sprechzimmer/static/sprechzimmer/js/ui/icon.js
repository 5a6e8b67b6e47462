// @ts-check
// Icons for elements a script builds: the same Lucide sprite as the template tag {% icon %}
// (static/sprechzimmer/icons/sprite.svg, its hashed address in <meta name="sz-icons">).
import { pageMeta } from "../lib/meta.js";

const SVG = "http://www.w3.org/2000/svg";

/**
 * An icon as decoration (aria-hidden): the control's visible text or aria-label names it.
 * @param {string} name a Lucide name listed in scripts/icons, e.g. "video"
 * @returns {SVGSVGElement}
 */
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", `icon icon-${name}`);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `${pageMeta("sz-icons")}#${name}`);
  svg.append(use);
  return svg;
}

/**
 * Puts an icon and a visible label into `element` (a button or link), replacing its content.
 * @param {HTMLElement} element
 * @param {string} name
 * @param {string} label
 */
export function setIconLabel(element, name, label) {
  const text = document.createElement("span");
  text.textContent = label;
  element.replaceChildren(icon(name), text);
}
