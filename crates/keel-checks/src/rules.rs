//! The catalogue of rules: stable ids, default severities, why each matters and how to fix it.
//! Output formats (SARIF) and policies refer to rules by these ids.

use crate::finding::Severity;

/// A rule's fixed description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, e.g. `img-alt`.
    pub id: &'static str,
    /// Severity unless a policy says otherwise.
    pub severity: Severity,
    /// One-line title.
    pub title: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub help: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $sev:ident, $title:literal, $why:literal, $help:literal;)*) => {
        $(
            #[doc = $title]
            pub const $name: Rule = Rule { id: $id, severity: Severity::$sev, title: $title, why: $why, help: $help };
        )*
        /// Every rule, in catalogue order.
        pub const ALL: &[Rule] = &[$($name),*];
    };
}

rules! {
    INPUT_UNREADABLE = "input-unreadable", Error, "Input is not readable as HTML",
        "A binary or undecodable file cannot be checked or sent.",
        "Check that the file is the HTML (or .eml) you meant to send.";
    INPUT_ENCODING = "input-encoding", Warning, "Invalid bytes for the declared encoding",
        "Bytes that are invalid in the declared charset show up as replacement characters (�) in inboxes.",
        "Save the file as UTF-8 and declare <meta charset=\"utf-8\">.";
    CLIENT_SUPPORT = "client-support", Warning, "Feature not supported by target email clients",
        "Email clients render HTML and CSS very differently; an unsupported feature breaks the layout or is dropped for those recipients.",
        "Use a fallback that the listed clients support (tables and inline styles for layout, conditional comments for Outlook), or accept the degradation.";
    GMAIL_CLIPPING = "gmail-clipping", Error, "HTML over Gmail's 102 KB clipping limit",
        "Gmail cuts messages whose HTML exceeds 102 KB and hides the rest (including the unsubscribe link and tracking pixel) behind \"View entire message\".",
        "Reduce the HTML: remove unused CSS, comments and whitespace, shorten tracking URLs, or split the content.";
    GMAIL_CLIPPING_NEAR = "gmail-clipping-near", Warning, "HTML close to Gmail's 102 KB clipping limit",
        "Personalisation and tracking links added at send time can push the message over 102 KB, where Gmail clips it.",
        "Keep a margin of at least 10 KB under the limit: remove unused CSS and comments.";
    IMG_ALT = "img-alt", Warning, "Image without alt text",
        "Images are often blocked by default; alt text is what those readers and screen-reader users get instead.",
        "Add alt=\"…\" describing the image, or alt=\"\" for decorative images.";
    IMG_DIMENSIONS = "img-dimensions", Warning, "Image without width and height",
        "Without dimensions, Outlook shows images at their natural size and layouts jump or break when images are blocked.",
        "Add width and height attributes matching the displayed size.";
    IMG_HTTP = "img-http", Error, "Image loaded over http",
        "Clients block or warn about insecure images, and image proxies may refuse them.",
        "Serve the image over https.";
    LINK_MALFORMED = "link-malformed", Error, "Malformed link",
        "A link that does not parse as a URL goes nowhere.",
        "Fix the URL (scheme, host, no spaces or unescaped characters).";
    LINK_HTTP = "link-http", Warning, "Link uses http instead of https",
        "Browsers flag insecure pages, and click tracking on http leaks data.",
        "Link to the https URL.";
    LINK_EMPTY = "link-empty", Error, "Empty link",
        "An empty or placeholder href (\"\", \"#\") does nothing when clicked, usually a forgotten URL.",
        "Set the intended URL.";
    LINK_JAVASCRIPT = "link-javascript", Error, "javascript: link",
        "Email clients strip javascript: links and spam filters penalise them.",
        "Link to a web page instead.";
    LINK_UTM = "link-utm", Warning, "Link missing required UTM parameters",
        "Without campaign parameters, visits from this email are not attributed to it.",
        "Add the missing utm_ parameters to the link.";
    LINK_TEXT_MISMATCH = "link-text-mismatch", Error, "Visible URL differs from the link target",
        "A link whose text shows one domain but points to another is a classic phishing sign and is penalised by spam filters.",
        "Make the visible URL match the target, or use descriptive link text instead of a URL.";
    LINK_DOMAIN = "link-domain", Warning, "Link to a domain not on the approved list",
        "Brand policy limits links to approved domains to avoid typos, expired domains and off-brand destinations.",
        "Use an approved domain or add this one to the policy.";
    UNSUBSCRIBE_LINK = "unsubscribe-link", Error, "No unsubscribe link in the body",
        "Commercial email must offer a visible way to opt out (CAN-SPAM, GDPR, Gmail and Yahoo sender rules).",
        "Add a visible link whose text says \"unsubscribe\" (or the equivalent in the email's language).";
    PREHEADER = "preheader", Warning, "Preheader missing or of unsuitable length",
        "The preheader is the preview text next to the subject; without one, clients show whatever text comes first.",
        "Add a hidden preheader (about 40–130 characters) as the first element of the body.";
    HTML_LANG = "html-lang", Warning, "No lang attribute on <html>",
        "Screen readers need the language to pronounce the text correctly.",
        "Add lang=\"en\" (or the right language) to the <html> element.";
    HTML_DIR = "html-dir", Info, "No dir attribute",
        "Right-to-left languages need dir=\"rtl\"; setting dir explicitly keeps clients from guessing.",
        "Add dir=\"ltr\" or dir=\"rtl\" to the <html> element.";
    TABLE_ROLE = "table-role", Warning, "Layout table without role=\"presentation\"",
        "Screen readers announce layout tables as data tables, with rows and columns, which makes the email hard to follow.",
        "Add role=\"presentation\" to tables used for layout.";
    HEADING_ORDER = "heading-order", Warning, "Heading level skipped",
        "Screen-reader users navigate by headings; skipped levels suggest missing sections.",
        "Use heading levels in order (h1, then h2, …) without skipping.";
    CONTRAST = "contrast", Warning, "Low colour contrast",
        "Text below a 4.5:1 contrast ratio (3:1 for large text) is hard to read, especially on phones outdoors.",
        "Darken the text or lighten the background until the ratio reaches 4.5:1 (WCAG 2 AA).";
    DARK_MODE = "dark-mode", Info, "No dark-mode support declared",
        "Without a color-scheme declaration, clients invert colours on their own and logos or text may become unreadable.",
        "Add <meta name=\"color-scheme\" content=\"light dark\"> and @media (prefers-color-scheme: dark) styles.";
    POSTAL_ADDRESS = "postal-address", Error, "No physical postal address",
        "CAN-SPAM requires a valid physical postal address in every commercial email.",
        "Add the sender's postal address to the footer.";
    BRAND_FOOTER = "brand-footer", Error, "Required footer text missing",
        "The brand policy requires this text (legal line, address, registration) in every email.",
        "Add the required text to the footer.";
    SPAM_IMAGE_ONLY = "spam-image-only", Warning, "Image-only or low text-to-image ratio",
        "Emails with little text and many images are treated as spam by filters and are blank when images are blocked.",
        "Add real HTML text: at least a few sentences per image.";
    SPAM_CAPS = "spam-caps", Warning, "Subject or preheader in capitals",
        "All-caps subjects are a spam signal and read as shouting.",
        "Write the subject in sentence case.";
    SPAM_EXCLAMATION = "spam-exclamation", Warning, "Excessive exclamation marks",
        "Runs of exclamation marks are a spam signal.",
        "Use at most one exclamation mark at a time.";
    URL_SHORTENER = "url-shortener", Warning, "Link through a URL shortener",
        "Public shorteners hide the destination and are heavily used by spammers; filters penalise them.",
        "Link to the destination directly (your click tracking still works).";
    LIST_UNSUBSCRIBE = "list-unsubscribe", Error, "List-Unsubscribe header missing or without https URI",
        "Gmail and Yahoo require one-click unsubscribe for bulk senders; without an https List-Unsubscribe URI the unsubscribe button does not appear.",
        "Add List-Unsubscribe: <https://…>, <mailto:…>.";
    LIST_UNSUBSCRIBE_POST = "list-unsubscribe-post", Error, "List-Unsubscribe-Post missing (RFC 8058)",
        "One-click unsubscribe requires List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058).",
        "Add the header List-Unsubscribe-Post: List-Unsubscribe=One-Click.";
    DKIM_COVERAGE = "dkim-coverage", Error, "DKIM signature does not cover List-Unsubscribe headers",
        "RFC 8058 requires both List-Unsubscribe headers to be signed, otherwise receivers ignore them.",
        "Add list-unsubscribe:list-unsubscribe-post to the DKIM h= tag of the signing configuration.";
    FROM_HEADER = "from-header", Error, "From header missing or malformed",
        "Receivers reject or junk mail without a single valid From address.",
        "Set From to one valid address, with a display name.";
    REPLY_TO = "reply-to", Warning, "Reply-To looks wrong",
        "Replies to a no-reply or malformed Reply-To are lost.",
        "Set Reply-To to a monitored mailbox, or leave it out.";
    MESSAGE_SIZE = "message-size", Warning, "Message is large",
        "Large messages are slow to download, clipped or rejected by some receivers.",
        "Host images instead of attaching or embedding them; keep the message under 1 MB.";
    TEXT_PART = "text-part", Warning, "No text/plain part",
        "Some clients and spam filters expect a plain-text alternative.",
        "Add a text/plain alternative part.";
    SUBJECT = "subject", Error, "Subject missing",
        "A message without a subject looks like spam and is hard to find.",
        "Add a subject.";
    TRACKING_TAG = "tracking-tag", Error, "Required tracking tag missing",
        "The policy requires this tag so that visits and conversions are measured.",
        "Add the tag (usually through the tag manager container).";
    SCRIPT_CONSENT = "script-consent", Error, "Third-party script loads without consent",
        "Scripts that set cookies or track visitors may only run after consent in its category (GDPR, ePrivacy).",
        "Gate the script behind the consent manager (e.g. type=\"text/plain\" with the category attribute) or load it from the tag manager with a consent trigger.";
    SCRIPT_UNKNOWN = "script-unknown", Warning, "Third-party script not in the tag registry",
        "A script whose vendor is not registered has no consent category, so it cannot be gated correctly.",
        "Add the vendor and host to the tag registry with its consent category.";
    FORM_LABEL = "form-label", Error, "Form field without a label",
        "Unlabelled fields are unusable with screen readers and fail WCAG 2 (1.3.1, 4.1.2).",
        "Add a <label for=…>, or aria-label / aria-labelledby.";
    FORM_VALIDATION = "form-validation", Warning, "Form without required-field validation",
        "Without required fields and input types, incomplete leads reach the CRM.",
        "Mark mandatory fields with required and use type=\"email\" / \"tel\" where it applies.";
    FORM_CONSENT = "form-consent", Error, "Form missing consent checkbox or consent text",
        "Collecting contact data for marketing needs informed consent: an unticked checkbox and consent text where the region requires it.",
        "Add an unticked consent checkbox with the consent text and a link to the privacy policy.";
    PRIVACY_LINK = "privacy-link", Error, "No privacy-policy link",
        "Pages that collect data must link to the privacy policy (GDPR art. 13, CCPA).",
        "Add a link to the privacy policy, usually in the footer.";
    VIEWPORT = "viewport", Warning, "No viewport meta",
        "Without a viewport declaration, phones render the desktop layout zoomed out.",
        "Add <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">.";
    PAGE_WEIGHT = "page-weight", Warning, "Page is heavy",
        "Heavy pages load slowly on phones, which lowers conversion.",
        "Compress images, remove unused scripts and CSS.";
    PAGE_REQUESTS = "page-requests", Warning, "Too many requests",
        "Every resource is a request; many requests slow the first render.",
        "Combine or remove scripts, styles and images.";
    A11Y = "a11y", Warning, "Accessibility problem found by axe-core in the rendered HTML",
        "Recipients and visitors using screen readers, zoom or high contrast cannot read or use what fails these checks, and accessibility is a legal requirement in many markets.",
        "Follow the fix and the linked rule page. Findings are named `a11y.<axe rule>`; policies can set their severity or disable them one by one (or all, with `a11y`).";
}

/// A rule by id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len());
    }
}
