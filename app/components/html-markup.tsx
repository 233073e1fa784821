import { markupOf, type SafeHtml } from "../utils/html-string";
import { useDelegatedNavigation } from "./delegated-navigation";

type Props = { as?: "tbody" | "table"; markup: SafeHtml; className?: string; "data-testid"?: string };

/**
 * An element whose content is an HTML string built by `html\`…\`` (ADR 028): React renders
 * and hydrates the element alone, not the rows inside, and their links navigate
 * client-side through one delegated click handler.
 */
export function HtmlMarkup({ as: Tag = "tbody", markup, ...props }: Props) {
  const navigateByLink = useDelegatedNavigation();
  return (
    // The clicks handled are the links' own, which the keyboard activates too (Enter on a link fires click).
    <Tag
      {...props}
      onClick={navigateByLink}
      // biome-ignore lint/security/noDangerouslySetInnerHtml: SafeHtml only comes from html`…`, which escapes every interpolated value
      dangerouslySetInnerHTML={{ __html: markupOf(markup) }}
    />
  );
}
