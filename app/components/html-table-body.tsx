import type { ComponentProps } from "react";
import { markupOf, type SafeHtml } from "../utils/html-string";
import { useDelegatedNavigation } from "./delegated-navigation";

type Props = { rows: SafeHtml } & Omit<ComponentProps<"tbody">, "children" | "dangerouslySetInnerHTML" | "onClick">;

/**
 * A table body whose rows are an HTML string built by `html\`…\`` (ADR 028): React renders
 * and hydrates the `<tbody>` alone, and its links navigate client-side through one
 * delegated click handler.
 */
export function HtmlTableBody({ rows, ...props }: Props) {
  const navigateByLink = useDelegatedNavigation();
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the clicks handled are the links' own, which the keyboard activates too (Enter on a link fires click)
    <tbody
      {...props}
      onClick={navigateByLink}
      // biome-ignore lint/security/noDangerouslySetInnerHtml: SafeHtml only comes from html`…`, which escapes every interpolated value
      dangerouslySetInnerHTML={{ __html: markupOf(rows) }}
    />
  );
}
