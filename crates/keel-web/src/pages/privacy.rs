//! Privacy pages. Public ones (no sign-in): subscribe with double opt-in, confirm, the preference
//! centre and RFC 8058 one-click unsubscribe — each protected by a signed link token instead of a
//! session, working without JavaScript, and translated (English and German; `?lang=` or
//! `Accept-Language`). And the privacy office's pages for the privacy role: the consent ledger,
//! suppressions, the subject-request queue, retention and the tag registry.

use crate::AppState;
use crate::api::privacy::{self as papi, DOI_TTL_HOURS, LINK_TTL_DAYS};
use crate::pages::{PageCaller, PageResult, field, fields, form_values};
use crate::render::Frame;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use keel_consent::TokenError;
use keel_consent::eligibility::Channel;
use keel_consent::ledger::{ConsentSource, ConsentState};
use keel_consent::spec::PurposeCategory;
use keel_consent::token::{self, TokenClaims, TokenPurpose};
use keel_policy::Action;
use keel_store::Actor;
use keel_store::privacy::{self as store, DoiOutcome, NewConsent, NewDoi};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The privacy templates, registered with the others by `render::Pages::load`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "privacy_export.html",
        include_str!("../../templates/privacy_export.html"),
    ),
    (
        "privacy_public.html",
        include_str!("../../templates/privacy_public.html"),
    ),
    (
        "privacy_message.html",
        include_str!("../../templates/privacy_message.html"),
    ),
    (
        "privacy_subscribe.html",
        include_str!("../../templates/privacy_subscribe.html"),
    ),
    (
        "privacy_confirm.html",
        include_str!("../../templates/privacy_confirm.html"),
    ),
    (
        "privacy_unsubscribe.html",
        include_str!("../../templates/privacy_unsubscribe.html"),
    ),
    (
        "privacy_preferences.html",
        include_str!("../../templates/privacy_preferences.html"),
    ),
    (
        "privacy_office.html",
        include_str!("../../templates/privacy_office.html"),
    ),
];

// ---------------------------------------------------------------------------------------------
// Translations

/// Languages of the public pages.
pub const LANGUAGES: [(&str, &str); 2] = [("en", "English"), ("de", "Deutsch")];

/// The public pages' strings: key, English, German.
const STRINGS: &[(&str, &str, &str)] = &[
    ("language", "Language", "Sprache"),
    ("email", "E-mail address", "E-Mail-Adresse"),
    (
        "region",
        "Where you live (optional)",
        "Wo Sie wohnen (optional)",
    ),
    (
        "region_help",
        "A country code such as DE, or a US state such as US-CA.",
        "Ein Ländercode wie DE oder ein US-Bundesstaat wie US-CA.",
    ),
    ("subscribe", "Subscribe", "Anmelden"),
    ("subscribe_title", "Subscribe", "Anmeldung"),
    (
        "check_inbox_title",
        "Check your inbox",
        "Bitte prüfen Sie Ihr Postfach",
    ),
    (
        "check_inbox",
        "If the address can receive mail, a confirmation link is on its way. Your subscription starts only when you confirm it.",
        "Wenn die Adresse E-Mails empfangen kann, ist ein Bestätigungslink unterwegs. Ihre Anmeldung gilt erst, wenn Sie sie bestätigen.",
    ),
    (
        "check_inbox_hint",
        "The link is valid for 48 hours and works once.",
        "Der Link ist 48 Stunden gültig und funktioniert einmal.",
    ),
    (
        "confirm_title",
        "Confirm your subscription",
        "Anmeldung bestätigen",
    ),
    (
        "confirm_lede",
        "Please confirm that you want to receive these messages.",
        "Bitte bestätigen Sie, dass Sie diese Nachrichten erhalten möchten.",
    ),
    (
        "confirm_button",
        "Yes, confirm my subscription",
        "Ja, Anmeldung bestätigen",
    ),
    (
        "confirmed_title",
        "Subscription confirmed",
        "Anmeldung bestätigt",
    ),
    (
        "confirmed",
        "Thank you. Your subscription is confirmed.",
        "Vielen Dank. Ihre Anmeldung ist bestätigt.",
    ),
    ("used_title", "Link already used", "Link bereits verwendet"),
    (
        "used",
        "This confirmation link has already been used. Your earlier confirmation stands; nothing else is needed.",
        "Dieser Bestätigungslink wurde bereits verwendet. Ihre frühere Bestätigung gilt; Sie müssen nichts weiter tun.",
    ),
    ("expired_title", "Link expired", "Link abgelaufen"),
    (
        "expired",
        "This link has expired. Please subscribe again to receive a new one.",
        "Dieser Link ist abgelaufen. Bitte melden Sie sich erneut an, um einen neuen zu erhalten.",
    ),
    ("invalid_title", "Link not valid", "Link ungültig"),
    (
        "invalid",
        "This link is not valid. It may have been changed or copied incompletely. Please use the link exactly as it arrived.",
        "Dieser Link ist ungültig. Er wurde möglicherweise verändert oder unvollständig kopiert. Bitte verwenden Sie den Link genau so, wie er angekommen ist.",
    ),
    ("too_many_title", "Too many attempts", "Zu viele Versuche"),
    (
        "too_many",
        "Please wait a few minutes and try again.",
        "Bitte warten Sie einige Minuten und versuchen Sie es erneut.",
    ),
    (
        "form_email",
        "Please enter a valid e-mail address.",
        "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
    ),
    (
        "form_agree",
        "Please tick the box to agree.",
        "Bitte setzen Sie das Häkchen, um zuzustimmen.",
    ),
    (
        "unknown_topic_title",
        "Unknown subscription",
        "Unbekannte Anmeldung",
    ),
    (
        "unknown_topic",
        "There is no subscription with this name.",
        "Es gibt keine Anmeldung mit diesem Namen.",
    ),
    (
        "preferences_title",
        "Your preferences",
        "Ihre Einstellungen",
    ),
    ("preferences_for", "Preferences for", "Einstellungen für"),
    ("topics", "Topics", "Themen"),
    (
        "no_topics",
        "There are no topics to choose from.",
        "Es gibt keine Themen zur Auswahl.",
    ),
    ("channels", "Channels", "Kanäle"),
    ("frequency", "How often", "Wie oft"),
    (
        "freq_any",
        "As often as there is news",
        "So oft es Neuigkeiten gibt",
    ),
    (
        "freq_weekly",
        "At most once a week",
        "Höchstens einmal pro Woche",
    ),
    (
        "freq_twice",
        "At most twice a week",
        "Höchstens zweimal pro Woche",
    ),
    ("save", "Save my choices", "Auswahl speichern"),
    (
        "leave_all",
        "Unsubscribe from everything",
        "Von allem abmelden",
    ),
    (
        "saved",
        "Your choices are saved.",
        "Ihre Auswahl ist gespeichert.",
    ),
    (
        "left_all",
        "You are unsubscribed from everything.",
        "Sie sind von allem abgemeldet.",
    ),
    (
        "gpc_recorded",
        "Your browser's Global Privacy Control signal is recorded: we do not sell or share your data.",
        "Das Global-Privacy-Control-Signal Ihres Browsers ist erfasst: Wir verkaufen oder teilen Ihre Daten nicht.",
    ),
    ("unsubscribe_title", "Unsubscribe", "Abmelden"),
    (
        "unsubscribe_lede",
        "Do you want to stop receiving these messages?",
        "Möchten Sie diese Nachrichten nicht mehr erhalten?",
    ),
    ("unsubscribe_button", "Unsubscribe", "Abmelden"),
    (
        "unsubscribed_title",
        "You are unsubscribed",
        "Sie sind abgemeldet",
    ),
    (
        "unsubscribed",
        "You will not receive these messages any more.",
        "Sie erhalten diese Nachrichten nicht mehr.",
    ),
    (
        "mail_subject",
        "Please confirm your subscription",
        "Bitte bestätigen Sie Ihre Anmeldung",
    ),
    (
        "mail_body",
        "Please confirm your subscription to \"{title}\" by opening this link within 48 hours:",
        "Bitte bestätigen Sie Ihre Anmeldung zu „{title}“, indem Sie diesen Link innerhalb von 48 Stunden öffnen:",
    ),
    (
        "mail_ignore",
        "If you did not subscribe, ignore this message; nothing will be sent.",
        "Wenn Sie sich nicht angemeldet haben, ignorieren Sie diese Nachricht; Sie erhalten dann nichts.",
    ),
    ("channel_email", "E-mail", "E-Mail"),
    ("channel_sms", "Text message", "SMS"),
    (
        "channel_push",
        "Push notifications",
        "Push-Benachrichtigungen",
    ),
    ("channel_phone", "Telephone", "Telefon"),
    ("channel_post", "Post", "Post"),
    ("channel_messaging", "Messaging apps", "Messenger"),
];

/// The strings of `lang` (English for anything else).
pub fn strings(lang: &str) -> BTreeMap<&'static str, &'static str> {
    STRINGS
        .iter()
        .map(|(k, en, de)| (*k, if lang == "de" { *de } else { *en }))
        .collect()
}

/// Picks the language: `?lang=` first, then the first supported `Accept-Language` entry by
/// weight, then English.
pub fn language(query: Option<&str>, headers: &HeaderMap) -> &'static str {
    let supported = |code: &str| {
        let base = code
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        LANGUAGES.iter().find(|(c, _)| *c == base).map(|(c, _)| *c)
    };
    if let Some(l) = query.and_then(supported) {
        return l;
    }
    let header = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut ranked: Vec<(f32, &str)> = header
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            Some((q, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    ranked
        .into_iter()
        .find_map(|(_, tag)| supported(tag))
        .unwrap_or("en")
}

#[derive(Serialize)]
struct LanguageLink {
    code: &'static str,
    label: &'static str,
    href: String,
}

fn language_links(path: &str, token: Option<&str>) -> Vec<LanguageLink> {
    LANGUAGES
        .iter()
        .map(|(code, label)| LanguageLink {
            code,
            label,
            href: match token {
                Some(t) => format!("{path}?token={t}&lang={code}"),
                None => format!("{path}?lang={code}"),
            },
        })
        .collect()
}

/// Query of the public pages.
#[derive(Debug, Default, Deserialize)]
pub struct PublicQuery {
    token: Option<String>,
    lang: Option<String>,
    purpose: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn public_page(
    state: &AppState,
    status: StatusCode,
    template: &str,
    lang: &str,
    title_key: &str,
    path: &str,
    token: Option<&str>,
    extra: minijinja::Value,
) -> Response {
    let t = strings(lang);
    let title = t.get(title_key).copied().unwrap_or(title_key);
    let mut r = state.pages.render(
        template,
        minijinja::context! {
            lang, t, title,
            languages => language_links(path, token),
            ..extra
        },
    );
    *r.status_mut() = status;
    // Links carry secrets: keep them out of caches and referrers.
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

fn message(
    state: &AppState,
    status: StatusCode,
    lang: &str,
    title_key: &str,
    detail_key: &str,
    tone: &str,
    hint_key: Option<&str>,
) -> Response {
    let t = strings(lang);
    let detail = t.get(detail_key).copied().unwrap_or(detail_key);
    let hint = hint_key.and_then(|k| t.get(k).copied());
    public_page(
        state,
        status,
        "privacy_message.html",
        lang,
        title_key,
        "/privacy/subscribe",
        None,
        minijinja::context! { detail, tone, hint },
    )
}

/// The page for a token that did not verify: forged or malformed → 400, expired → 410.
fn token_problem(state: &AppState, lang: &str, e: &TokenError) -> Response {
    match e {
        TokenError::Expired { .. } => message(
            state,
            StatusCode::GONE,
            lang,
            "expired_title",
            "expired",
            "bad",
            None,
        ),
        _ => message(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "invalid_title",
            "invalid",
            "bad",
            None,
        ),
    }
}

async fn verify(
    state: &AppState,
    token_text: &str,
    purpose: TokenPurpose,
) -> Result<Result<TokenClaims, TokenError>, crate::error::ApiError> {
    let keys = papi::signing_keys(state).await?;
    Ok(token::verify(
        &keys,
        token_text,
        purpose,
        chrono::Utc::now(),
    ))
}

fn client(headers: &HeaderMap, ext: &axum::http::Extensions) -> String {
    let _ = headers;
    crate::auth::client_key(ext)
}

// ---------------------------------------------------------------------------------------------
// Subscribe (double opt-in)

fn consent_text(lang: &str, title: &str) -> (String, String) {
    // The text shown is versioned per language, so the ledger proves which wording was agreed to.
    let text = if lang == "de" {
        format!("Ja, ich möchte „{title}“ per E-Mail erhalten. Ich kann mich jederzeit abmelden.")
    } else {
        format!("Yes, I want to receive \"{title}\" by e-mail. I can unsubscribe at any time.")
    };
    (format!("web-{lang}-1"), text)
}

async fn subscribe_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Result<Response, crate::pages::PageError> {
    let lang = language(q.lang.as_deref(), &headers);
    let rules = papi::rules(&state.store).await?;
    let name = q
        .purpose
        .clone()
        .or_else(|| marketing_purposes(&rules).into_iter().next());
    let Some((name, purpose)) = name.and_then(|n| rules.purposes.get(&n).map(|p| (n, p.clone())))
    else {
        return Ok(message(
            &state,
            StatusCode::NOT_FOUND,
            lang,
            "unknown_topic_title",
            "unknown_topic",
            "bad",
            None,
        ));
    };
    Ok(render_subscribe(
        &state,
        StatusCode::OK,
        lang,
        &name,
        &purpose,
        "",
        "",
        Vec::new(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn render_subscribe(
    state: &AppState,
    status: StatusCode,
    lang: &str,
    name: &str,
    purpose: &keel_consent::spec::PurposeSpec,
    email: &str,
    region: &str,
    errors: Vec<&str>,
) -> Response {
    let (_, text) = consent_text(lang, &purpose.title);
    public_page(
        state,
        status,
        "privacy_subscribe.html",
        lang,
        "subscribe_title",
        "/privacy/subscribe",
        None,
        minijinja::context! {
            purpose => minijinja::context! { name, title => purpose.title, description => purpose.description },
            consent_text => text, email, region, errors,
        },
    )
}

fn marketing_purposes(rules: &papi::PrivacyRules) -> Vec<String> {
    rules
        .purposes
        .iter()
        .filter(|(_, p)| p.category == PurposeCategory::MarketingCommunications)
        .map(|(n, _)| n.clone())
        .collect()
}

async fn subscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
    request: axum::extract::Request,
) -> Result<Response, crate::pages::PageError> {
    let lang = language(q.lang.as_deref(), &headers);
    let client = client(&headers, request.extensions());
    let body = axum::body::to_bytes(request.into_body(), crate::auth::MAX_FORM_BODY)
        .await
        .map_err(|_| crate::error::ApiError::TooLarge {
            limit: crate::auth::MAX_FORM_BODY,
        })?;
    if !state
        .privacy
        .allow(&format!("subscribe:{client}"), 20, Duration::from_secs(600))
    {
        return Ok(message(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            "too_many_title",
            "too_many",
            "bad",
            None,
        ));
    }
    let form = form_values(&body);
    let rules = papi::rules(&state.store).await?;
    let name = field(&form, "purpose");
    let Some(purpose) = rules.purposes.get(&name).cloned() else {
        return Ok(message(
            &state,
            StatusCode::NOT_FOUND,
            lang,
            "unknown_topic_title",
            "unknown_topic",
            "bad",
            None,
        ));
    };
    let email = field(&form, "email");
    let region = field(&form, "region");
    let t = strings(lang);
    let mut errors = Vec::new();
    let subject = store::subject_key(&email);
    if subject.is_none() {
        errors.push(t["form_email"]);
    }
    if field(&form, "agree") != "yes" {
        errors.push(t["form_agree"]);
    }
    let Some(subject) = subject.filter(|_| errors.is_empty()) else {
        return Ok(render_subscribe(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            &name,
            &purpose,
            &email,
            &region,
            errors,
        ));
    };
    let jurisdiction = if region.is_empty() {
        None
    } else {
        rules.jurisdiction_for_region(&region)
    };
    if papi::gpc(&headers) {
        papi::record_gpc(
            &state.store,
            &rules,
            &subject,
            jurisdiction.as_deref(),
            ConsentSource::Form,
            &Actor::System("privacy.subscribe"),
        )
        .await?;
    }
    // At most a few confirmation mails per address per hour, so the form cannot be used to flood
    // someone's inbox; the answer is the same either way, so it does not reveal anything.
    if state.privacy.allow(
        &format!("subscribe-mail:{subject}"),
        3,
        Duration::from_secs(3600),
    ) {
        let (tok, claims) = papi::sign_token(
            &state,
            TokenPurpose::DoubleOptIn,
            &subject,
            Some(&name),
            None,
            chrono::Duration::hours(DOI_TTL_HOURS),
        )
        .await?;
        let (version, text) = consent_text(lang, &purpose.title);
        let expires_at =
            chrono::DateTime::from_timestamp(claims.expires_at, 0).unwrap_or_else(chrono::Utc::now);
        store::create_doi(
            &state.store,
            &Actor::System("privacy.subscribe"),
            &NewDoi {
                nonce: claims.nonce.clone(),
                subject: subject.clone(),
                purpose: name.clone(),
                jurisdiction,
                text: Some((version, text)),
                expires_at,
            },
        )
        .await?;
        let url = format!(
            "{}&lang={lang}",
            papi::link(&state, "/privacy/confirm", &tok)
        );
        let body = format!(
            "{}\n\n{url}\n\n{}\n",
            t["mail_body"].replace("{title}", &purpose.title),
            t["mail_ignore"]
        );
        let html = format!(
            "<p>{}</p><p><a href=\"{}\">{}</a></p><p>{}</p>",
            html_escape(&t["mail_body"].replace("{title}", &purpose.title)),
            html_escape(&url),
            html_escape(t["confirm_button"]),
            html_escape(t["mail_ignore"])
        );
        let mail =
            keel_mail::Message::text(subject.clone(), t["mail_subject"], body).with_html(html);
        match &state.privacy.mailer {
            Some(mailer) => {
                if let Err(e) = mailer.send(&mail).await {
                    tracing::error!("double opt-in mail not sent: {e}");
                }
            }
            None => tracing::warn!("KEEL_SMTP_URL is not set; double opt-in mail not sent"),
        }
    }
    Ok(message(
        &state,
        StatusCode::OK,
        lang,
        "check_inbox_title",
        "check_inbox",
        "good",
        Some("check_inbox_hint"),
    ))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn confirm_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Result<Response, crate::pages::PageError> {
    let lang = language(q.lang.as_deref(), &headers);
    let tok = q.token.unwrap_or_default();
    if let Err(e) = verify(&state, &tok, TokenPurpose::DoubleOptIn).await? {
        return Ok(token_problem(&state, lang, &e));
    }
    // Confirming takes a POST: mail scanners that prefetch links must not confirm for the person.
    Ok(public_page(
        &state,
        StatusCode::OK,
        "privacy_confirm.html",
        lang,
        "confirm_title",
        "/privacy/confirm",
        Some(&tok),
        minijinja::context! { token => tok },
    ))
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
    body: Bytes,
) -> Result<Response, crate::pages::PageError> {
    let lang = language(q.lang.as_deref(), &headers);
    let form = form_values(&body);
    let tok = field(&form, "token");
    let claims = match verify(&state, &tok, TokenPurpose::DoubleOptIn).await? {
        Ok(c) => c,
        Err(e) => return Ok(token_problem(&state, lang, &e)),
    };
    let detail = serde_json::json!({"via": "confirmation link", "gpc": papi::gpc(&headers)});
    let outcome =
        store::confirm_doi(&state.store, &claims.nonce, keel_store::now(), detail).await?;
    if matches!(outcome, DoiOutcome::Confirmed(..)) {
        record_page_gpc(&state, &headers, &claims.subject).await?;
    }
    Ok(match outcome {
        DoiOutcome::Confirmed(..) => message(
            &state,
            StatusCode::OK,
            lang,
            "confirmed_title",
            "confirmed",
            "good",
            None,
        ),
        DoiOutcome::AlreadyUsed(_) => message(
            &state,
            StatusCode::CONFLICT,
            lang,
            "used_title",
            "used",
            "bad",
            None,
        ),
        DoiOutcome::Expired(_) => message(
            &state,
            StatusCode::GONE,
            lang,
            "expired_title",
            "expired",
            "bad",
            None,
        ),
        DoiOutcome::Unknown => message(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "invalid_title",
            "invalid",
            "bad",
            None,
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// Preference centre

#[derive(Serialize)]
struct TopicChoice {
    name: String,
    title: String,
    description: Option<String>,
    granted: bool,
}

#[derive(Serialize)]
struct ChannelChoice {
    code: String,
    label: &'static str,
    on: bool,
}

#[derive(Serialize)]
struct FrequencyChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// Channels offered in the preference centre.
const OFFERED_CHANNELS: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Post];

async fn render_preferences(
    state: &AppState,
    lang: &str,
    tok: &str,
    subject: &str,
    notice: Option<&str>,
    gpc_recorded: bool,
) -> Result<Response, crate::pages::PageError> {
    let rules = papi::rules(&state.store).await?;
    let current = store::current_state(&state.store, subject).await?;
    let t = strings(lang);
    let purposes: Vec<TopicChoice> = rules
        .purposes
        .iter()
        .filter(|(_, p)| p.category != PurposeCategory::Transactional)
        .map(|(n, p)| TopicChoice {
            name: n.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            granted: current
                .get(subject, n)
                .is_some_and(|c| c.state == ConsentState::Granted),
        })
        .collect();
    let channels: Vec<ChannelChoice> = OFFERED_CHANNELS
        .iter()
        .map(|c| {
            let code = store::code(c);
            ChannelChoice {
                label: t
                    .get(format!("channel_{code}").as_str())
                    .copied()
                    .unwrap_or("?"),
                on: current
                    .get(subject, &format!("channel:{code}"))
                    .is_none_or(|s| s.state == ConsentState::Granted),
                code,
            }
        })
        .collect();
    let max = store::preferences(&state.store, subject)
        .await?
        .and_then(|p| p.max_sends_per_week);
    let frequencies = [
        ("any", "freq_any", None),
        ("1", "freq_weekly", Some(1)),
        ("2", "freq_twice", Some(2)),
    ]
    .into_iter()
    .map(|(value, key, n)| FrequencyChoice {
        value,
        label: t[key],
        selected: max == n,
    })
    .collect::<Vec<_>>();
    Ok(public_page(
        state,
        StatusCode::OK,
        "privacy_preferences.html",
        lang,
        "preferences_title",
        "/privacy/preferences",
        Some(tok),
        minijinja::context! { token => tok, subject, purposes, channels, frequencies, notice, gpc_recorded },
    ))
}

async fn preferences_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Result<Response, crate::pages::PageError> {
    let lang = language(q.lang.as_deref(), &headers);
    let tok = q.token.unwrap_or_default();
    let claims = match verify(&state, &tok, TokenPurpose::PreferenceCentre).await? {
        Ok(c) => c,
        Err(e) => return Ok(token_problem(&state, lang, &e)),
    };
    let gpc_recorded = record_page_gpc(&state, &headers, &claims.subject).await?;
    render_preferences(&state, lang, &tok, &claims.subject, None, gpc_recorded).await
}

async fn record_page_gpc(
    state: &AppState,
    headers: &HeaderMap,
    subject: &str,
) -> Result<bool, crate::pages::PageError> {
    if !papi::gpc(headers) {
        return Ok(false);
    }
    let rules = papi::rules(&state.store).await?;
    let jurisdiction = papi::known_jurisdiction(&state.store, subject).await?;
    papi::record_gpc(
        &state.store,
        &rules,
        subject,
        jurisdiction.as_deref(),
        ConsentSource::PreferenceCentre,
        &Actor::System("privacy.preferences"),
    )
    .await?;
    Ok(true)
}

async fn save_preferences(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
    body: Bytes,
) -> Result<Response, crate::pages::PageError> {
    let lang = language(q.lang.as_deref(), &headers);
    let form = form_values(&body);
    let tok = field(&form, "token");
    let claims = match verify(&state, &tok, TokenPurpose::PreferenceCentre).await? {
        Ok(c) => c,
        Err(e) => return Ok(token_problem(&state, lang, &e)),
    };
    let subject = claims.subject.clone();
    let gpc_recorded = record_page_gpc(&state, &headers, &subject).await?;
    let leave = field(&form, "action") == "leave";
    let topics = fields(&form, "topic");
    let channels = fields(&form, "channel");
    let rules = papi::rules(&state.store).await?;
    let current = store::current_state(&state.store, &subject).await?;
    let jurisdiction = papi::known_jurisdiction(&state.store, &subject).await?;
    let actor = Actor::System("privacy.preferences");
    let now = keel_store::now();
    let mut tx = state.store.begin().await?;
    let detail = serde_json::json!({"via": "preference centre", "lang": lang});
    // Only changes are appended, so the ledger records what the person actually did.
    let mut wanted: Vec<(String, bool, keel_consent::spec::LawfulBasis)> = rules
        .purposes
        .iter()
        .filter(|(_, p)| p.category != PurposeCategory::Transactional)
        .map(|(n, p)| (n.clone(), !leave && topics.contains(n), p.lawful_basis))
        .collect();
    for c in OFFERED_CHANNELS {
        let code = store::code(&c);
        let on = !leave && channels.contains(&code);
        wanted.push((
            format!("channel:{code}"),
            on,
            keel_consent::spec::LawfulBasis::Consent,
        ));
    }
    for (purpose, on, basis) in wanted {
        let now_state = current.get(&subject, &purpose).map(|c| c.state);
        let is_channel = purpose.starts_with("channel:");
        let currently_on = if is_channel {
            now_state.is_none_or(|s| s == ConsentState::Granted)
        } else {
            now_state == Some(ConsentState::Granted)
        };
        if on == currently_on {
            continue;
        }
        let state_ = if on {
            ConsentState::Granted
        } else if now_state == Some(ConsentState::Granted) {
            ConsentState::Withdrawn
        } else {
            ConsentState::Denied
        };
        store::append_consent(
            &mut tx,
            &actor,
            &NewConsent {
                subject: subject.clone(),
                contact_id: None,
                purpose,
                state: state_,
                at: now,
                source: ConsentSource::PreferenceCentre,
                jurisdiction: jurisdiction.clone(),
                lawful_basis: basis,
                text: None,
                detail: detail.clone(),
            },
        )
        .await?;
    }
    let max = match field(&form, "frequency").as_str() {
        "1" => Some(1),
        "2" => Some(2),
        _ => None,
    };
    let before = store::preferences(&state.store, &subject).await?;
    if before
        .as_ref()
        .map(|p| (p.max_sends_per_week, p.language.as_deref()))
        != Some((max, Some(lang)))
    {
        store::set_preferences(&mut tx, &actor, &subject, max, Some(lang)).await?;
    }
    tx.commit().await?;
    let t = strings(lang);
    let notice = if leave { t["left_all"] } else { t["saved"] };
    render_preferences(&state, lang, &tok, &subject, Some(notice), gpc_recorded).await
}

// ---------------------------------------------------------------------------------------------
// One-click unsubscribe (RFC 8058)

async fn unsubscribe_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Result<Response, crate::pages::PageError> {
    let lang = language(q.lang.as_deref(), &headers);
    let tok = q.token.unwrap_or_default();
    if let Err(e) = verify(&state, &tok, TokenPurpose::Unsubscribe).await? {
        return Ok(token_problem(&state, lang, &e));
    }
    // A GET never unsubscribes (RFC 8058 §3.2: link checkers must not unsubscribe people).
    Ok(public_page(
        &state,
        StatusCode::OK,
        "privacy_unsubscribe.html",
        lang,
        "unsubscribe_title",
        "/privacy/unsubscribe",
        Some(&tok),
        minijinja::context! { token => tok },
    ))
}

/// Withdraws what an unsubscribe token covers: its purpose, or every non-transactional purpose
/// the person has granted. Idempotent: a second POST changes nothing.
pub async fn unsubscribe_subject(
    state: &AppState,
    claims: &TokenClaims,
    via: &str,
) -> Result<Vec<store::LedgerEntry>, crate::error::ApiError> {
    let rules = papi::rules(&state.store).await?;
    let current = store::current_state(&state.store, &claims.subject).await?;
    let targets: Vec<String> = match &claims.list {
        Some(p) => vec![p.clone()],
        None => rules
            .purposes
            .iter()
            .filter(|(_, p)| p.category != PurposeCategory::Transactional)
            .map(|(n, _)| n.clone())
            .collect(),
    };
    let jurisdiction = papi::known_jurisdiction(&state.store, &claims.subject).await?;
    let actor = Actor::System("privacy.unsubscribe");
    let mut tx = state.store.begin().await?;
    let mut out = Vec::new();
    for purpose in targets {
        if current
            .get(&claims.subject, &purpose)
            .is_some_and(|c| c.state != ConsentState::Granted)
        {
            continue;
        }
        let basis = rules
            .purposes
            .get(&purpose)
            .map(|p| p.lawful_basis)
            .unwrap_or_default();
        out.push(
            store::append_consent(
                &mut tx,
                &actor,
                &NewConsent {
                    subject: claims.subject.clone(),
                    contact_id: None,
                    purpose,
                    state: ConsentState::Withdrawn,
                    at: keel_store::now(),
                    source: ConsentSource::PreferenceCentre,
                    jurisdiction: jurisdiction.clone(),
                    lawful_basis: basis,
                    text: None,
                    detail: serde_json::json!({"via": via, "campaign": claims.campaign}),
                },
            )
            .await?,
        );
    }
    tx.commit().await?;
    Ok(out)
}

async fn unsubscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
    body: Bytes,
) -> Result<Response, crate::pages::PageError> {
    let lang = language(q.lang.as_deref(), &headers);
    let tok = q.token.clone().unwrap_or_default();
    let claims = match verify(&state, &tok, TokenPurpose::Unsubscribe).await? {
        Ok(c) => c,
        Err(e) => return Ok(token_problem(&state, lang, &e)),
    };
    let form = form_values(&body);
    let one_click = field(&form, "List-Unsubscribe") == "One-Click";
    unsubscribe_subject(
        &state,
        &claims,
        if one_click {
            "rfc8058 one-click"
        } else {
            "unsubscribe page"
        },
    )
    .await?;
    if papi::gpc(&headers) {
        record_page_gpc(&state, &headers, &claims.subject).await?;
    }
    let is_browser = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if !is_browser {
        // Mail clients posting RFC 8058 one-click expect a plain success.
        return Ok((
            StatusCode::OK,
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            "unsubscribed\n",
        )
            .into_response());
    }
    Ok(message(
        &state,
        StatusCode::OK,
        lang,
        "unsubscribed_title",
        "unsubscribed",
        "good",
        None,
    ))
}

/// Signs a preference-centre link for a subject (used in e-mails and by the privacy office).
pub async fn preference_link(
    state: &AppState,
    subject: &str,
) -> Result<String, crate::error::ApiError> {
    let (tok, _) = papi::sign_token(
        state,
        TokenPurpose::PreferenceCentre,
        subject,
        None,
        None,
        chrono::Duration::days(LINK_TTL_DAYS),
    )
    .await?;
    Ok(papi::link(state, "/privacy/preferences", &tok))
}

// ---------------------------------------------------------------------------------------------
// Privacy office (privacy role)

#[derive(Debug, Default, Deserialize)]
struct OfficeQuery {
    q: Option<String>,
    subject: Option<String>,
}

async fn office(
    state: &AppState,
    caller: &crate::auth::Caller,
    path: &str,
    title: &str,
    view: &str,
    data: serde_json::Value,
    notice: Option<String>,
) -> PageResult {
    caller.require(state, Action::PrivacyManage)?;
    let mut frame = Frame::new(state, caller, title, path);
    frame.notice = notice;
    Ok(state.pages.render(
        "privacy_office.html",
        minijinja::context! { view, data, ..minijinja::Value::from_serialize(&frame) },
    ))
}

async fn ledger_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<OfficeQuery>,
) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    let query = q.q.clone().unwrap_or_default();
    let (subjects, total) = store::search_subjects(&state.store, &query, 50, 0).await?;
    let history = match q.subject.as_deref().and_then(store::subject_key) {
        Some(s) => Some(papi::consent_history(&state.store, &s).await?),
        None => None,
    };
    let link = match &history {
        Some(h) => Some(preference_link(&state, &h.subject).await?),
        None => None,
    };
    let counts = store::state_counts(&state.store).await?;
    let mut by_state: BTreeMap<String, f64> = BTreeMap::new();
    for (purpose, s, n) in &counts {
        if !purpose.starts_with("channel:") {
            *by_state.entry(s.clone()).or_default() += *n as f64;
        }
    }
    let chart = crate::pages::charts::bars(
        "Current consent by state",
        &by_state.into_iter().collect::<Vec<_>>(),
    );
    let pending = store::list_dois(&state.store, true, 20).await?;
    let data = serde_json::json!({
        "query": query, "subjects": subjects, "total": total, "history": history,
        "preference_link": link, "counts": counts, "chart": chart, "pending": pending,
    });
    office(
        &state,
        &caller,
        "/consent",
        "Consent ledger",
        "ledger",
        data,
        None,
    )
    .await
}

async fn suppressions_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<OfficeQuery>,
) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    render_suppressions(&state, &caller, q.q.unwrap_or_default(), None, Vec::new()).await
}

async fn render_suppressions(
    state: &AppState,
    caller: &crate::auth::Caller,
    query: String,
    notice: Option<String>,
    errors: Vec<crate::error::FieldError>,
) -> PageResult {
    let (items, total) = store::list_suppressions(&state.store, &query, 200, 0).await?;
    let data =
        serde_json::json!({"query": query, "items": items, "total": total, "errors": errors});
    office(
        state,
        caller,
        "/consent/suppressions",
        "Suppressions",
        "suppressions",
        data,
        notice,
    )
    .await
}

async fn add_suppression_form(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    body: Bytes,
) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    let form = form_values(&body);
    let value = field(&form, "value");
    let req = papi::SuppressionIn {
        email: field(&form, "email"),
        scope: field(&form, "scope"),
        value: (!value.is_empty()).then_some(value),
        reason: field(&form, "reason"),
    };
    match papi::add_suppression(&state, &caller.actor(), &req).await {
        Ok(s) => {
            render_suppressions(
                &state,
                &caller,
                String::new(),
                Some(format!(
                    "{} is suppressed ({}{})",
                    s.subject,
                    s.scope,
                    if s.value.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", s.value)
                    }
                )),
                Vec::new(),
            )
            .await
        }
        Err(crate::error::ApiError::Validation { errors, .. }) => {
            render_suppressions(&state, &caller, String::new(), None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn requests_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    render_requests(&state, &caller, None, Vec::new()).await
}

async fn render_requests(
    state: &AppState,
    caller: &crate::auth::Caller,
    notice: Option<String>,
    errors: Vec<crate::error::FieldError>,
) -> PageResult {
    let rows: Vec<papi::SubjectRequestOut> = store::list_requests(&state.store, false)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let mut by_sla: BTreeMap<String, f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.sla != "closed") {
        *by_sla.entry(r.sla.replace('_', " ")).or_default() += 1.0;
    }
    let chart = crate::pages::charts::bars(
        "Open requests by deadline status",
        &by_sla.into_iter().collect::<Vec<_>>(),
    );
    let rules = papi::rules(&state.store).await?;
    let jurisdictions: Vec<String> = rules.jurisdictions.keys().cloned().collect();
    let systems: BTreeMap<String, Vec<store::ErasureDelivery>> =
        store::all_deliveries(&state.store)
            .await?
            .into_iter()
            .map(|(id, d)| (id.to_string(), d))
            .collect();
    let data = serde_json::json!({"requests": rows, "chart": chart, "jurisdictions": jurisdictions, "errors": errors, "systems": systems});
    office(
        state,
        caller,
        "/consent/requests",
        "Subject requests",
        "requests",
        data,
        notice,
    )
    .await
}

async fn request_action(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    body: Bytes,
) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    let form = form_values(&body);
    let actor = caller.actor();
    let id: i64 = field(&form, "id").parse().unwrap_or(0);
    let note = field(&form, "note");
    let result = match field(&form, "action").as_str() {
        "create" => papi::create_request(
            &state.store,
            &actor,
            papi::SubjectRequestIn {
                kind: field(&form, "kind"),
                email: field(&form, "email"),
                contact_id: None,
                jurisdiction: Some(field(&form, "jurisdiction")).filter(|j| !j.is_empty()),
                received_at: None,
                details: None,
            },
        )
        .await
        .map(|r| format!("Request {} logged; due {}", r.id, r.due_on)),
        "verify" => store::verify_request(
            &state.store,
            &actor,
            id,
            if note.is_empty() {
                "verified in the privacy office"
            } else {
                &note
            },
        )
        .await
        .map(|r| format!("Identity verified for request {}", r.id))
        .map_err(Into::into),
        "extend" => store::extend_request(
            &state.store,
            &actor,
            id,
            if note.is_empty() {
                "complex request"
            } else {
                &note
            },
        )
        .await
        .map(|r| format!("Request {} extended to {}", r.id, r.extended_due_on))
        .map_err(Into::into),
        "complete" => papi::complete_request(&state.store, &actor, id, &note)
            .await
            .map(|r| {
                state.job_waker.notify_one();
                if r.status == "awaiting_systems" {
                    format!(
                        "Request {} erased in Keel; waiting for its connected systems",
                        r.id
                    )
                } else {
                    format!("Request {} completed", r.id)
                }
            }),
        "acknowledge" => store::acknowledge_delivery(
            &state.store,
            &actor,
            id,
            &field(&form, "system"),
            if note.is_empty() {
                "erased by hand"
            } else {
                &note
            },
        )
        .await
        .map(|(d, r)| {
            format!(
                "{} acknowledged for request {}{}",
                d.display_name,
                r.id,
                if r.status == "completed" {
                    "; the request is complete"
                } else {
                    ""
                }
            )
        })
        .map_err(Into::into),
        _ => Err(crate::error::ApiError::validation(vec![
            crate::error::FieldError::new("action", "unknown action"),
        ])),
    };
    match result {
        Ok(notice) => render_requests(&state, &caller, Some(notice), Vec::new()).await,
        Err(crate::error::ApiError::Validation { errors, .. }) => {
            render_requests(&state, &caller, None, errors).await
        }
        Err(crate::error::ApiError::Conflict { detail, .. }) => {
            render_requests(
                &state,
                &caller,
                None,
                vec![crate::error::FieldError::new("request", detail)],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn retention_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    render_retention(&state, &caller, None).await
}

async fn render_retention(
    state: &AppState,
    caller: &crate::auth::Caller,
    notice: Option<String>,
) -> PageResult {
    let policies: Vec<serde_json::Value> =
        keel_store::documents::list(&state.store, Some("RetentionPolicy"))
            .await?
            .into_iter()
            .map(|d| serde_json::json!({"name": d.name, "spec": d.spec.0}))
            .collect();
    let runs = store::retention_runs(&state.store, 30).await?;
    let holds = store::legal_holds(&state.store).await?;
    let executed: Vec<i64> = runs.iter().filter_map(|r| r.dry_run_id).collect();
    let data = serde_json::json!({"policies": policies, "runs": runs, "holds": holds, "executed": executed});
    office(
        state,
        caller,
        "/consent/retention",
        "Retention",
        "retention",
        data,
        notice,
    )
    .await
}

async fn retention_action(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    body: Bytes,
) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    let form = form_values(&body);
    let notice =
        match field(&form, "action").as_str() {
            "dry_run" => {
                let run =
                    papi::dry_run(&state.store, &caller.actor(), &field(&form, "policy")).await?;
                format!("Dry run {} of {} stored", run.id, run.policy)
            }
            "execute" => {
                let id: i64 = field(&form, "run").parse().unwrap_or(0);
                let run = store::execute_retention(&state.store, &caller.actor(), id).await?;
                format!("Dry run {id} executed as run {}", run.id)
            }
            _ => {
                return Err(crate::error::ApiError::validation(vec![
                    crate::error::FieldError::new("action", "unknown action"),
                ])
                .into());
            }
        };
    render_retention(&state, &caller, Some(notice)).await
}

async fn tags_page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    render_tags(&state, &caller, None, Vec::new()).await
}

async fn render_tags(
    state: &AppState,
    caller: &crate::auth::Caller,
    notice: Option<String>,
    errors: Vec<crate::error::FieldError>,
) -> PageResult {
    let tags = store::tags(&state.store).await?;
    let data = serde_json::json!({"tags": tags, "errors": errors});
    office(
        state,
        caller,
        "/consent/tags",
        "Tag registry",
        "tags",
        data,
        notice,
    )
    .await
}

async fn tag_action(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    body: Bytes,
) -> PageResult {
    caller.require(&state, Action::PrivacyManage)?;
    let form = form_values(&body);
    let result = if field(&form, "action") == "delete" {
        let id: i64 = field(&form, "id").parse().unwrap_or(0);
        store::delete_tag(&state.store, &caller.actor(), id)
            .await
            .map(|t| format!("Tag {} removed", t.name))
            .map_err(Into::into)
    } else {
        let input = papi::TagIn {
            name: field(&form, "name"),
            vendor: field(&form, "vendor"),
            category: field(&form, "category"),
            properties: field(&form, "properties")
                .split(',')
                .map(|s| s.trim().to_string())
                .collect(),
            src_pattern: field(&form, "src_pattern"),
        };
        match papi::validate_tag(&input) {
            Ok(t) => store::create_tag(&state.store, &caller.actor(), &t)
                .await
                .map(|t| format!("Tag {} registered", t.name))
                .map_err(Into::into),
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(n) => render_tags(&state, &caller, Some(n), Vec::new()).await,
        Err(crate::error::ApiError::Validation { errors, .. }) => {
            render_tags(&state, &caller, None, errors).await
        }
        Err(crate::error::ApiError::Conflict { detail, .. }) => {
            render_tags(
                &state,
                &caller,
                None,
                vec![crate::error::FieldError::new("name", detail)],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Every privacy page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/privacy/subscribe", get(subscribe_form).post(subscribe))
        .route("/privacy/confirm", get(confirm_page).post(confirm))
        .route(
            "/privacy/preferences",
            get(preferences_page).post(save_preferences),
        )
        .route(
            "/privacy/unsubscribe",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route("/consent", get(ledger_page))
        .route(
            "/consent/suppressions",
            get(suppressions_page).post(add_suppression_form),
        )
        .route("/consent/requests", get(requests_page).post(request_action))
        .route(
            "/consent/retention",
            get(retention_page).post(retention_action),
        )
        .route("/consent/tags", get(tags_page).post(tag_action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(language(None, &h), "en");
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            "fr;q=0.9, de-AT;q=0.8, en;q=0.1"
                .parse()
                .unwrap_or(axum::http::HeaderValue::from_static("")),
        );
        assert_eq!(language(None, &h), "de");
        assert_eq!(language(Some("en"), &h), "en");
        assert_eq!(language(Some("xx"), &h), "de");
    }

    #[test]
    fn every_string_is_translated() {
        for (key, en, de) in STRINGS {
            assert!(!en.is_empty() && !de.is_empty(), "{key}");
        }
    }
}
