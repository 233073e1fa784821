import { useNavigate } from "@remix-run/react";
import { type MouseEvent, useCallback } from "react";

/**
 * Client-side navigation for the plain `<a>` links inside a table built as an HTML string
 * (ADR 028): one click handler on the table instead of a `<Link>` (and its dozen hooks)
 * per cell, which is what hydration spent its time on. A click that a browser would not
 * turn into a same-tab navigation (modifier keys, middle button, `target`, `download`,
 * another origin) is left to the browser; without JavaScript the links are just links.
 */
export function useDelegatedNavigation(): (event: MouseEvent<HTMLElement>) => void {
  const navigate = useNavigate();
  return useCallback(
    (event: MouseEvent<HTMLElement>) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.altKey || event.ctrlKey || event.shiftKey) return;
      const anchor = event.target instanceof Element ? event.target.closest("a[href]") : null;
      if (!(anchor instanceof HTMLAnchorElement) || !event.currentTarget.contains(anchor)) return;
      if ((anchor.target && anchor.target !== "_self") || anchor.hasAttribute("download") || anchor.origin !== window.location.origin) return;
      event.preventDefault();
      navigate(`${anchor.pathname}${anchor.search}${anchor.hash}`);
    },
    [navigate],
  );
}
