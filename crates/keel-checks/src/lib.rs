//! Pre-send email checks and pre-launch landing-page checks.
pub mod finding;
pub mod html;
pub mod source;
pub mod rules;
pub mod caniemail;
pub mod css;
